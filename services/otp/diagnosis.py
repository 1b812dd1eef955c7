"""'Why no OTP?': the exact cause and the remedy for an employee who gets no OTP, with personal data
masked. Each cause has a stable code; the same diagnosis is kept for the employee's DDO."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg

from contract import IST, EventType
from services.common.errors import ApiError
from services.common.events import publish
from services.common.runtime import OtpContext
from services.common.settings import OtpSettings

from .mobile import mask_mobile

CONTRACTUAL_HEAD_MARK = "Contractual"

CERTIFICATE_REMEDY = (
    "Ask your DDO (or HoD / Administrative Secretary) to issue a verification certificate on this "
    "portal stating that you are a genuine contractual employee, that your full service record is "
    "available and that your pay is drawn from the correct contractual head. The data owner then "
    "corrects your record and you get an SMS when you can register."
)


@dataclass
class Cause:
    code: str
    message: str
    remedy: str
    # the particulars the message names (the masked numbers, the data owner), so the portal can say them in Hindi
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class Diagnosis:
    employee_id: str | None
    ddo_code: str | None
    causes: list[Cause]
    # Where the remedy has got to: the DDO's verification certificate, then the data owner's correction.
    progress: dict[str, Any] | None = None

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.causes]

    def public(self) -> dict[str, Any]:
        return {"causes": [asdict(c) for c in self.causes], "progress": self.progress}


def _owner_name(owner: str) -> str:
    return {"HKRN": "HKRN (Haryana Kaushal Rozgar Nigam)", "TREASURY": "Treasury & Accounts", "HARTRON": "HARTRON"}.get(
        owner, owner
    )


async def check_limits(conn: asyncpg.Connection, settings: OtpSettings, family_id: str, client_addr: str) -> None:
    """Counted before the identity is checked, so that neither a date of birth nor the numbers on record can be
    guessed by asking again and again: per Family ID, and per client address (sized for an office)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('why-no-otp:' || $1))", family_id)
    counts = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE family_id = $1) AS family, count(*) FILTER (WHERE client_addr = $2) AS client "
        "FROM otp.diagnosis_request WHERE (family_id = $1 OR client_addr = $2) AND requested_at > now() - $3::interval",
        family_id,
        client_addr,
        settings.limit_period(3600),
    )
    if counts["family"] >= settings.why_no_otp_per_family_hour:
        raise ApiError(
            429,
            "diagnosis_limit",
            f"'Why no OTP?' can be asked at most {settings.why_no_otp_per_family_hour} "
            "times an hour for a Family ID; try again later.",
            retry_after_seconds=max(1, round(settings.limit_period(3600).total_seconds())),
        )
    if counts["client"] >= settings.why_no_otp_per_client_hour:
        raise ApiError(
            429,
            "client_limit",
            "Too many 'Why no OTP?' requests have come from your network in the last hour; try again later.",
            retry_after_seconds=max(1, round(settings.limit_period(3600).total_seconds())),
        )
    await conn.execute(
        "INSERT INTO otp.diagnosis_request (family_id, client_addr) VALUES ($1, $2)", family_id, client_addr
    )


async def diagnose(conn: asyncpg.Connection, family_id: str, date_of_birth: date, mobile: str) -> Diagnosis:
    """The employee proves who they are with Family ID and date of birth (as in the Family ID registry);
    only then is anything about their record said, and only masked."""
    ppp = await conn.fetchrow(
        "SELECT name, father_name, date_of_birth FROM otp.ppp_registry WHERE family_id = $1", family_id
    )
    if ppp is None or ppp["date_of_birth"] != date_of_birth:
        raise ApiError(
            422,
            "identity_not_confirmed",
            "The Family ID and date of birth do not match the Family ID "
            "(PPP) registry. Check both, or correct your PPP data first.",
        )
    records = await conn.fetch("SELECT * FROM otp.employee_master WHERE family_id = $1 ORDER BY employee_id", family_id)
    # A family may hold several employees: the one whose PPP details match, else the only one.
    record = next((r for r in records if r["date_of_birth"] == date_of_birth and r["name"] == ppp["name"]), None)
    if record is None and len(records) == 1:
        record = records[0]
    causes: list[Cause] = []
    if record is None:
        causes.append(
            Cause(
                "not_in_government_database",
                "No service record for you was found in the HKRN (Part-1), Treasury (Part-2) or HARTRON databases. "
                "People engaged by a private contractor whose record is not in these databases are not covered.",
                "If you work in a Haryana government department, board or corporation, ask your DDO to issue a "
                "verification certificate so that your record is added. " + CERTIFICATE_REMEDY,
            )
        )
        return Diagnosis(None, None, causes)
    owner = _owner_name(record["data_owner"])
    if record["status"] != "active":
        causes.append(
            Cause(
                "record_inactive",
                f"Your service record with {owner} is marked inactive.",
                f"Ask your DDO to confirm your service; {owner} must reactivate the record. " + CERTIFICATE_REMEDY,
                {"owner": owner},
            )
        )
    if record["mobile"] != mobile:
        # Said the same way whether or not the number typed is on someone else's record: this answer must not
        # become a way to find out which numbers are on record.
        # Your Family ID leads to your record, and that record holds another number: what the employee needs to
        # know is the (masked) number the OTPs go to, not merely that theirs is "not on record".
        causes.append(
            Cause(
                "record_has_different_mobile",
                f"Your service record with {owner} (found through your Family ID) has a different mobile, "
                f"{mask_mobile(record['mobile'])}; OTPs go only to that number, not to {mask_mobile(mobile)}.",
                "Use the number on your record if you still have it. If it is wrong or changed: " + CERTIFICATE_REMEDY,
                {"owner": owner, "on_record": mask_mobile(record["mobile"]), "given": mask_mobile(mobile)},
            )
        )
    mismatched = [
        label
        for label, a, b in (
            ("name", ppp["name"], record["name"]),
            ("father's name", ppp["father_name"], record["father_name"]),
            ("date of birth", ppp["date_of_birth"], record["date_of_birth"]),
        )
        if a != b
    ]
    if mismatched:
        causes.append(
            Cause(
                "ppp_mismatch",
                f"Your Family ID (PPP) data does not match your service record in: {', '.join(mismatched)}.",
                "Correct your Family ID data at the PPP (Parivar Pehchan Patra) centre, or ask your DDO "
                f"for a verification certificate so that {owner} corrects the service record.",
            )
        )
    if CONTRACTUAL_HEAD_MARK not in record["pay_head"]:
        causes.append(
            Cause(
                "non_contractual_pay_head",
                "Your pay is drawn from a budget head that is not the contractual head, so your record "
                "was not passed on for registration.",
                "Your DDO must certify the correct contractual head. " + CERTIFICATE_REMEDY,
            )
        )
    refused = await conn.fetchrow(
        "SELECT refusal, handled_at FROM otp.sms_delivery WHERE mobile = $1 AND template = 'otp' "
        "ORDER BY handled_at DESC LIMIT 1",
        record["mobile"],
    )
    if refused is not None and refused["refusal"] and not causes:
        # The gateway would not take the last OTP to the number on record (its words: on DND, unallocated, a
        # template not registered): the operators see it parked; the employee learns it was not their doing.
        causes.append(
            Cause(
                "sms_refused_by_gateway",
                f"The last OTP to {mask_mobile(record['mobile'])} could not be delivered: the SMS gateway refused "
                f"it ({refused['refusal']}).",
                "If the number is registered on the Do Not Disturb list, allow service messages (send START 0 to "
                "1909) and request an OTP again. The operators have been told of the refusal. If the number is no "
                "longer yours: " + CERTIFICATE_REMEDY,
            )
        )
    if not causes:
        locked = await conn.fetchval(
            "SELECT locked_until FROM otp.mobile_lockout WHERE mobile = $1 AND locked_until > now()", mobile
        )
        if locked:
            causes.append(
                Cause(
                    "mobile_locked",
                    f"OTPs to this number are paused until {locked.astimezone(IST):%d %b %Y %H:%M} IST after repeated "
                    "wrong codes.",
                    "Wait until then and request a new OTP.",
                )
            )
        else:
            causes.append(
                Cause(
                    "no_problem_found",
                    "Your record is in order and OTPs go to the number you entered.",
                    "Request an OTP again; SMS can take a few minutes. If none arrives, check that the "
                    "phone can receive SMS and is not blocking commercial messages (DND).",
                )
            )
    return Diagnosis(record["employee_id"], record["ddo_code"], causes, await remedy_progress(conn, record))


async def remedy_progress(conn: asyncpg.Connection, record: asyncpg.Record) -> dict[str, Any]:
    """The employee follows their remedy: has a verification certificate been issued for them, and has the
    data owner corrected the record it asked for? Dates and the organisation only, never the officer."""
    latest = await conn.fetchrow(
        "SELECT requested_at, corrected_at FROM otp.correction_request WHERE employee_id = $1 "
        "ORDER BY requested_at DESC LIMIT 1",
        record["employee_id"],
    )
    return {
        "data_owner": _owner_name(record["data_owner"]),
        "certificate_issued_at": latest["requested_at"].isoformat() if latest else None,
        "corrected_at": latest["corrected_at"].isoformat() if latest and latest["corrected_at"] else None,
    }


# Faults on the record that the employee cannot mend alone: the remedy is the DDO's verification certificate and
# the data owner's correction. Reported before registration closes, they hold the employee's registration open.
RECORD_FAULTS = frozenset(
    {"record_inactive", "record_has_different_mobile", "ppp_mismatch", "non_contractual_pay_head"}
)


async def record(conn: asyncpg.Connection, diagnosis: Diagnosis, family_id: str | None = None) -> None:
    """Keep the diagnosis for the DDO; a record fault is also told to the employee's case, in the same
    transaction (the case then holds registration open while the remedy runs)."""
    diagnosed_at = await conn.fetchval(
        "INSERT INTO otp.diagnosis (employee_id, ddo_code, causes, family_id) VALUES ($1, $2, $3, $4) "
        "RETURNING diagnosed_at",
        diagnosis.employee_id,
        diagnosis.ddo_code,
        [asdict(c) for c in diagnosis.causes],
        family_id,
    )
    faults = [code for code in diagnosis.codes if code in RECORD_FAULTS]
    if diagnosis.employee_id and faults:
        await publish(
            conn,
            "otp",
            EventType.NO_OTP_REPORTED,
            diagnosis.employee_id,
            {"causes": faults, "reported_at": diagnosed_at.isoformat()},
        )


async def why_no_otp(ctx: OtpContext, family_id: str, date_of_birth: date, mobile: str, client_addr: str) -> Diagnosis:
    """Count the ask (even when the identity is not confirmed), then diagnose and keep the diagnosis."""
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            await check_limits(conn, ctx.settings, family_id, client_addr)
        async with conn.transaction():
            found = await diagnose(conn, family_id, date_of_birth, mobile)
            await record(conn, found, family_id)
            if found.progress is not None and found.employee_id:
                found.progress["reported_at"] = await first_report(conn, found.employee_id)
    return found


async def first_report_not_in_database(conn: asyncpg.Connection, family_id: str) -> datetime | None:
    """When a person in no database first asked "Why no OTP?" with this Family ID (and proved it)."""
    reported: datetime | None = await conn.fetchval(
        "SELECT min(diagnosed_at) FROM otp.diagnosis WHERE family_id = $1 AND employee_id IS NULL AND EXISTS "
        "(SELECT 1 FROM jsonb_array_elements(causes) AS c WHERE c->>'code' = 'not_in_government_database')",
        family_id,
    )
    return reported


async def first_report(conn: asyncpg.Connection, employee_id: str) -> str | None:
    """When the employee first reported a fault on their record: reported before registration closed, it holds
    their registration open (contract.SeasonCalendar.registration_close_for), which the portal tells them."""
    reported = await conn.fetchval(
        "SELECT min(diagnosed_at) FROM otp.diagnosis WHERE employee_id = $1 AND EXISTS "
        "(SELECT 1 FROM jsonb_array_elements(causes) AS c WHERE c->>'code' = ANY($2::text[]))",
        employee_id,
        sorted(RECORD_FAULTS),
    )
    return reported.isoformat() if reported else None


async def of_ddo(
    ctx: OtpContext, ddo_code: str, limit: int, offset: int, employee_id: str | None = None
) -> list[dict[str, Any]]:
    """The diagnoses of one DDO's employees (or of one of them), newest first."""
    rows = await ctx.pool.fetch(
        "SELECT employee_id, causes, diagnosed_at FROM otp.diagnosis WHERE ddo_code = $1 "
        "AND ($4::text IS NULL OR employee_id = $4) ORDER BY diagnosed_at DESC LIMIT $2 OFFSET $3",
        ddo_code,
        limit,
        offset,
        employee_id,
    )
    return [dict(r) for r in rows]
