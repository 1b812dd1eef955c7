"""The application: checked against master data and the registration window, numbered, and announced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from contract import (
    IST,
    REGISTRATION_CLOSE,
    SMS_TOPIC,
    CaseStatus,
    EventType,
    RegistrationHold,
    SeasonCalendar,
    case_workflow_id,
    search_attributes,
)
from services.common.errors import ApiError
from services.common.events import envelope, publish, write_event
from services.common.runtime import ApplicationsContext

from . import dropdowns
from .calendar import calendar_in_force
from .schemas import ApplicationForm


async def submit(ctx: ApplicationsContext, employee_id: str, form: ApplicationForm) -> tuple[str, datetime]:
    await check_ddo_of_record(ctx, employee_id, form)
    try:
        return await _submit(ctx, employee_id, form)
    except ApiError as err:
        if err.code in MISSING_ENTRY:
            await report_missing_entry(ctx, employee_id, *MISSING_ENTRY[err.code](form))
            raise ApiError(
                err.status,
                err.code,
                f"{err.message} The data owners have been told; you will get an SMS when it is added, and your "
                "application stays open for you until some days after that.",
                **err.details,
            ) from None
        raise
    except asyncpg.UniqueViolationError:
        # the same submission sent twice at once (a client retrying a request that timed out): one wins
        existing = await ctx.pool.fetchval(
            "SELECT application_no FROM applications.application WHERE employee_id = $1 AND season_id = $2",
            employee_id,
            ctx.settings.season_id,
        )
        raise ApiError(
            409, "application_exists", f"You have already submitted application {existing}.", application_no=existing
        ) from None


# The case is asked whether registration is held open for an employee this close to the calendar's close, too.
ASK_THE_CASE_WITHIN = timedelta(minutes=1)


async def _submit(ctx: ApplicationsContext, employee_id: str, form: ApplicationForm) -> tuple[str, datetime]:
    season_id = ctx.settings.season_id
    # After the close, whether this employee's registration is held open is the case's to say (a Temporal query,
    # slow in the post-close surge when the case engine is busiest): asked before the transaction, never inside
    # it, where a slow case engine held a connection each and emptied the pool. The rule is applied inside, to
    # the calendar in force at the moment of the insert.
    calendar = await calendar_in_force(ctx.pool, season_id)  # a pool reads like a connection
    hold = None
    if datetime.now(UTC) + ASK_THE_CASE_WITHIN > calendar.registration_close:
        hold = await registration_hold(ctx, employee_id)
    async with ctx.pool.acquire() as conn, conn.transaction():
        calendar = await calendar_in_force(conn, season_id)
        now = datetime.now(UTC)
        if now < calendar.registration_open:
            raise ApiError(
                409,
                "registration_not_open",
                f"Applications open on {calendar.registration_open.astimezone(IST):%d %b %Y %H:%M} IST.",
            )
        closes = (
            calendar.registration_close_for(hold.reported_at, hold.corrected_at)
            if hold
            else calendar.registration_close
        )
        if now > closes:
            raise ApiError(
                409,
                "registration_closed",
                f"Applications closed on {closes.astimezone(IST):%d %b %Y %H:%M} IST and can no longer be submitted.",
            )
        existing = await conn.fetchval(
            "SELECT application_no FROM applications.application WHERE employee_id = $1 AND season_id = $2",
            employee_id,
            season_id,
        )
        if existing:
            raise ApiError(
                409,
                "application_exists",
                f"You have already submitted application {existing}.",
                application_no=existing,
            )
        await _check_choices(conn, form)
        docs = await _check_documents(conn, employee_id)
        seq = await conn.fetchval("SELECT nextval('applications.application_no_seq')")
        application_no = f"SS-{season_id.upper()}-{seq:07d}"
        submitted_at = await conn.fetchval(
            "INSERT INTO applications.application (application_no, employee_id, season_id, status, department_code, "
            "district, post_code, ddo_code, date_of_joining) VALUES ($1, $2, $3, 'submitted', $4, $5, $6, $7, $8) "
            "RETURNING submitted_at",
            application_no,
            employee_id,
            season_id,
            form.department_code,
            form.district,
            form.post_code,
            form.ddo_code,
            form.date_of_joining,
        )
        await _record_submission(conn, EventType.APPLICATION_SUBMITTED, employee_id, application_no, 1, form, docs)
    return application_no, submitted_at


async def resubmit(ctx: ApplicationsContext, employee_id: str, application_no: str, form: ApplicationForm) -> datetime:
    """A returned application, corrected: kept as the next submission and sent back to the DDO."""
    await check_ddo_of_record(ctx, employee_id, form)
    async with ctx.pool.acquire() as conn, conn.transaction():
        app = await conn.fetchrow(
            "SELECT * FROM applications.application WHERE application_no = $1 FOR UPDATE", application_no
        )
        if app is None or app["employee_id"] != employee_id:
            raise ApiError(404, "application_not_found", f"There is no application {application_no} in your name.")
        if app["status"] != "returned":
            raise ApiError(
                409,
                "not_returned",
                f"Application {application_no} has not been returned for correction, so it cannot be changed now.",
            )
        calendar = await calendar_in_force(conn, app["season_id"])
        if datetime.now(UTC) > calendar.ddo_verification:
            raise ApiError(
                409,
                "correction_window_closed",
                f"The window for corrections closed on {calendar.ddo_verification:%d %b %Y}.",
            )
        await _check_choices(conn, form)
        docs = await _check_documents(conn, employee_id)
        number = await conn.fetchval(
            "SELECT max(number) + 1 FROM applications.submission WHERE application_no = $1", application_no
        )
        await conn.execute(
            "UPDATE applications.application SET status = 'resubmitted', department_code = $2, district = $3, "
            "post_code = $4, ddo_code = $5, date_of_joining = $6, remarks = '{}' WHERE application_no = $1",
            application_no,
            form.department_code,
            form.district,
            form.post_code,
            form.ddo_code,
            form.date_of_joining,
        )
        submitted_at = await _record_submission(
            conn, EventType.APPLICATION_RESUBMITTED, employee_id, application_no, number, form, docs
        )
    return submitted_at


async def _record_submission(
    conn: asyncpg.Connection,
    event_type: str,
    employee_id: str,
    application_no: str,
    number: int,
    form: ApplicationForm,
    docs: list[dict[str, Any]],
) -> datetime:
    """Keep the submission as sent (form and document versions) and announce it to the case."""
    submitted_at: datetime = await conn.fetchval(
        "INSERT INTO applications.submission (application_no, number, form, documents) VALUES ($1, $2, $3, $4) "
        "RETURNING submitted_at",
        application_no,
        number,
        form.model_dump(mode="json"),
        docs,
    )
    await publish(
        conn,
        "applications",
        event_type,
        employee_id,
        {
            "application_no": application_no,
            "submission": number,
            "department_code": form.department_code,
            "district": form.district,
            "post_code": form.post_code,
            "ddo_code": form.ddo_code,
        },
    )
    # the employee's SMS with the application number, in the same transaction: sent once the submission is
    # kept, and only then (the gateway adapter keys it by this event's id, so a retry is not a second message)
    await write_event(
        conn,
        "applications",
        SMS_TOPIC,
        envelope(
            "sms.requested",
            "applications",
            employee_id,
            {"template": "application_received", "params": {"application_no": application_no}},
        ),
    )
    return submitted_at


async def _check_documents(conn: asyncpg.Connection, employee_id: str) -> list[dict[str, Any]]:
    """The required documents and the identity numbers must be there before submission."""
    from .documents import REQUIRED, latest_documents

    docs = await latest_documents(conn, employee_id)
    missing = [k for k in REQUIRED if k not in {d["kind"] for d in docs}]
    if missing:
        raise ApiError(
            422,
            "documents_missing",
            "Upload these documents before submitting: " + ", ".join(missing) + ".",
            missing=missing,
        )
    if not await conn.fetchval("SELECT 1 FROM applications.identity WHERE employee_id = $1", employee_id):
        raise ApiError(422, "identity_missing", "Enter your Aadhaar number and PAN before submitting.")
    return [{"kind": d["kind"], "version": d["version"], "sha256": d["sha256"]} for d in docs]


# The refusals that mean a drop-down list lacks the employee's entry (which the data owners must add), and the list
# and code each names.
MISSING_ENTRY: dict[str, Callable[[ApplicationForm], tuple[str, str]]] = {
    "unknown_department": lambda form: ("department", form.department_code),
    "unknown_post": lambda form: ("post", form.post_code),
    "unknown_ddo": lambda form: ("ddo", form.ddo_code),
}


async def report_missing_entry(ctx: ApplicationsContext, employee_id: str, list_name: str, code: str) -> None:
    """An application refused for an entry missing from the lists reports it to the data owners (GET
    /dropdowns/missing) and tells the employee's case, once per entry and employee: reported before the close, it
    holds their registration open until the entry is added and the grace after (as a record fault does)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        reported_at = await conn.fetchval(
            "INSERT INTO applications.missing_entry (list_name, code, employee_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING reported_at",
            list_name,
            code,
            employee_id,
        )
        if reported_at is not None:
            await publish(
                conn,
                "applications",
                EventType.APPLICATION_BLOCKED,
                employee_id,
                {"causes": [f"{list_name}_missing_from_lists"], "code": code, "reported_at": reported_at.isoformat()},
            )


async def registration_hold(ctx: ApplicationsContext, employee_id: str) -> RegistrationHold | None:
    """What holds this employee's registration open, as their case knows it (a fault reported in time, and when
    it was mended), or None."""
    try:
        hold: RegistrationHold | None = await ctx.temporal.get_workflow_handle(
            case_workflow_id(employee_id, ctx.settings.season_id)
        ).query("registration_hold", result_type=RegistrationHold)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return None  # no case: nothing holds it open
    except WorkflowQueryFailedError:
        return None  # a case run by a worker older than this query: the calendar's close holds
    return hold


async def registration_close_for(ctx: ApplicationsContext, calendar: SeasonCalendar, employee_id: str) -> datetime:
    """The registration deadline in force for this employee: the calendar's close, or later when they reported a
    fault only others can mend before it (their case holds the moments; the rule is applied here to the calendar
    in force, never the case's copy of it). Asked only after the calendar's close."""
    hold = await registration_hold(ctx, employee_id)
    if hold is None:
        return calendar.registration_close
    return calendar.registration_close_for(hold.reported_at, hold.corrected_at)


async def check_ddo_of_record(ctx: ApplicationsContext, employee_id: str, form: ApplicationForm) -> None:
    """One source of truth for who verifies: the DDO on the employee's service record, which the case was
    started with and routes the verification to. An application naming another DDO is refused with the DDO
    of record named (before this, the form's DDO could open the review while the task sat in the other's
    queue); a wrong record is corrected by its data owner on a DDO's verification certificate."""
    attributes = await ctx.case_attributes(employee_id)
    if attributes is None:
        return  # no case yet (the employee's record came after the season's import): nothing to differ from
    of_record = attributes.get(search_attributes.DDO_CODE)
    if of_record and of_record != form.ddo_code:
        raise ApiError(
            422,
            "ddo_not_on_record",
            f"Your service record names {of_record} as your DDO, and your case goes to that DDO: choose "
            f"{of_record}. If the record is wrong, ask your DDO for a verification certificate so that the data "
            "owner corrects it.",
            ddo_code=of_record,
        )


async def _check_choices(conn: asyncpg.Connection, form: ApplicationForm) -> None:
    """Each drop-down choice must exist, and the DDO must belong to the chosen department and district."""
    if not await conn.fetchval("SELECT 1 FROM applications.department WHERE code = $1", form.department_code):
        raise ApiError(422, "unknown_department", f"Department {form.department_code!r} is not in the list.")
    if not await conn.fetchval("SELECT 1 FROM applications.district WHERE name = $1", form.district):
        raise ApiError(422, "unknown_district", f"District {form.district!r} is not one of Haryana's districts.")
    if not await conn.fetchval("SELECT 1 FROM applications.post WHERE code = $1", form.post_code):
        raise ApiError(422, "unknown_post", f"Post {form.post_code!r} is not in the list.")
    ddo = await conn.fetchrow(
        "SELECT department_code, district FROM applications.ddo WHERE ddo_code = $1", form.ddo_code
    )
    if ddo is None:
        raise ApiError(422, "unknown_ddo", f"DDO {form.ddo_code!r} is not in the list.")
    if (ddo["department_code"], ddo["district"]) != (form.department_code, form.district):
        raise ApiError(
            422,
            "ddo_mismatch",
            f"DDO {form.ddo_code} belongs to {ddo['department_code']} in "
            f"{ddo['district']}, not to the department and district you chose.",
        )


async def status(ctx: ApplicationsContext, employee_id: str, application_no: str) -> dict[str, Any]:
    """Where an application stands: its own row, and the stage, deadline and eligibility its case holds.
    Another employee's number is answered exactly as a number that does not exist."""
    row = await ctx.pool.fetchrow(
        "SELECT employee_id, submitted_at, status, remarks, (SELECT count(*) FROM "
        "applications.submission s WHERE s.application_no = a.application_no) AS submissions "
        "FROM applications.application a WHERE application_no = $1",
        application_no,
    )
    if row is None or row["employee_id"] != employee_id:
        raise ApiError(404, "application_not_found", f"There is no application {application_no} in your name.")
    case = await _case_status(ctx, employee_id)
    return {
        "application_no": application_no,
        "submitted_at": row["submitted_at"],
        "status": row["status"],
        "stage": case.stage,
        "next_step": case.next_step,
        "next_deadline": await _deadline_in_force(ctx, case),
        "order_no": case.order_no,
        "remarks": row["remarks"],
        "submissions": row["submissions"],
        "eligibility": [r.__dict__ for r in case.eligibility.results] if case.eligibility else None,
    }


async def my_case(ctx: ApplicationsContext, employee_id: str) -> dict[str, Any]:
    """The employee's own case as their dashboard shows it: the stage, what comes next and by when (the
    deadline in force, so an extension shows at once), the case's history, and their application this season
    if there is one. The employee needs no application number to find it."""
    row = await ctx.pool.fetchrow(
        "SELECT application_no, submitted_at, status, remarks, ddo_code, (SELECT count(*) FROM applications.submission s "
        "WHERE s.application_no = a.application_no) AS submissions FROM applications.application a "
        "WHERE employee_id = $1 AND season_id = $2",
        employee_id,
        ctx.settings.season_id,
    )
    case = await _case_status(ctx, employee_id)
    return {
        "employee_id": employee_id,
        "stage": case.stage,
        "next_step": case.next_step,
        "next_deadline": await _deadline_in_force(ctx, case),
        "history": [{"at": h.at, "stage": h.stage, "note": h.note} for h in case.history],
        "eligibility": [r.__dict__ for r in case.eligibility.results] if case.eligibility else None,
        "order_no": case.order_no,
        "application_no": row["application_no"] if row else None,
        "submitted_at": row["submitted_at"] if row else None,
        "status": row["status"] if row else None,
        "remarks": row["remarks"] if row else {},
        "submissions": row["submissions"] if row else 0,
        # whom to ask: the DDO the application went to (an employee who has not applied is shown theirs on the
        # "Why no OTP?" answer and in the form)
        "ddo": await dropdowns.ddo(ctx, row["ddo_code"]) if row else None,
    }


async def _deadline_in_force(ctx: ApplicationsContext, case: CaseStatus) -> datetime | None:
    """The next step's deadline from the calendar in force, which this service owns: an extension shows to
    the employee at once, while the case itself takes the new calendar in at its next look (a timer, a
    signal, or its daily check-in)."""
    if not case.next_step:
        return None
    async with ctx.pool.acquire() as conn:
        try:
            calendar = await calendar_in_force(conn, ctx.settings.season_id)
        except LookupError:
            return case.next_deadline
    if case.next_step == REGISTRATION_CLOSE and case.registration_hold:
        # the employee's own, held open while the remedy of a fault they reported runs
        return calendar.registration_close_for(case.registration_hold.reported_at, case.registration_hold.corrected_at)
    return calendar.deadline(case.next_step)


async def _case_status(ctx: ApplicationsContext, employee_id: str) -> CaseStatus:
    """The case's own status. No case (yet) is a 404 in words; the case engine not answering is an outage, with
    Retry-After like every other (before, both were a 503 without it)."""
    try:
        status: CaseStatus = await ctx.temporal.get_workflow_handle(
            case_workflow_id(employee_id, ctx.settings.season_id)
        ).query("status", result_type=CaseStatus)
        return status
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(
                404,
                "case_not_found",
                "There is no case for you in this season yet. If your record was added just now, try again in a "
                "few minutes.",
            ) from None
        raise ApiError(
            503,
            "case_unavailable",
            "The status of this application cannot be read just now; try again shortly.",
            retry_after_seconds=ctx.settings.retry_after_seconds,
        ) from None


async def calendar(ctx: ApplicationsContext, season_id: str) -> SeasonCalendar:
    async with ctx.pool.acquire() as conn:
        try:
            return await calendar_in_force(conn, season_id)
        except LookupError:
            raise ApiError(404, "season_not_found", f"There is no calendar for season {season_id}.") from None
