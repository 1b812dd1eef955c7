"""`seva simulate --employees N`: a whole season on the real local stack with the calendar compressed to
minutes, and people who behave like people. Employees arrive early, in the middle or in the surge before the
deadline, and some never come; one whose record holds another mobile gets no OTP, asks "Why no OTP?", asks
the DDO for a verification certificate (the HoD when the DDO does not answer), waits for the data owner's
correction and registers. DDOs, Finance and HoDs act after delays drawn per officer, and some never act, so
escalation must carry the case; the registration deadline is extended half-way, as the state did. Seeded: the
same seed gives the same people, arrivals and delays.

The report (Markdown and an SVG chart of cases per stage over the season) answers: did every eligible
employee whose problem has a remedy reach "submitted" before the deadline in force, and who did not, why?"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import asyncpg
import httpx
from stdnum import verhoeff
from tqdm import tqdm

from contract import SeasonCalendar, Stage
from deploy.local.phone import otp_since
from deploy.local.seed import import_employees, put_calendar
from deploy.local.stack import LocalStack, Ports
from deploy.local.synthetic import SyntheticEmployee, generate
from services.applications.documents import REQUIRED
from services.common.settings import Settings
from services.common.temporal import connect

# every stage a case can be in, and those a case ends in
STAGES = tuple(v for k, v in vars(Stage).items() if k.isupper())
CLOSED = (
    Stage.ORDER_ISSUED,
    Stage.INELIGIBLE,
    Stage.REJECTED,
    Stage.LAPSED_UNREGISTERED,
    Stage.LAPSED_NO_APPLICATION,
    Stage.LAPSED_NOT_RESUBMITTED,
    Stage.SUPERANNUATED,
)
# The real portal's trouble: about 8 % could not get an OTP (most with a wrong or changed mobile on record);
# fewer records were wrong in other ways, and some people are not eligible at all.
FAULT_MIX = {
    "wrong_mobile": 6.0,
    "ppp_mismatch": 1.5,
    "wrong_pay_head": 1.0,
    "under_five_years": 0.5,
    "service_gap": 0.5,
    "age_58_plus": 0.5,
    # eligible, but their record never reached HKRN, Treasury or HARTRON: the import leaves them out (their Family
    # ID is in the registry); the remedy is the DDO's certificate for a new record and the data owner's addition
    "not_in_database": 0.5,
    # eligible, but their post is missing from the form's drop-down list (a handful of rare posts)
    "missing_dropdown": 0.5,
}
ATTESTED = {  # the three attestations of a verification certificate
    "genuine_contractual_employee": True,
    "full_service_record_available": True,
    "pay_from_contractual_head": True,
}
RARE_POSTS = ("RARE-RADIOGRAPHER", "RARE-FARRIER", "RARE-SERICULTURIST")
SIM_PORTS = Ports(30233, 30234, 30329, 30092, 30093, 30001, 30002, 30003, 30004, 30235, 30009)
SEASON = "sim"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# Faults of a record that the employee's own truth does not share: such an employee is eligible.
# the audit's findings about the mobile on record that the DDO and the data owner mend before the portal opens
MOBILE_FINDINGS = {"mobile_differs_from_family_id", "mobile_not_mine", "mobile_unconfirmed"}
ELIGIBLE_FAULTS = (None, "wrong_mobile", "ppp_mismatch", "wrong_pay_head", "not_in_database", "missing_dropdown")


@dataclass
class Plan:
    """The season in seconds from its opening, and who does what when; all drawn from the seed."""

    employees: int
    seed: int
    registration: float  # seconds the registration window lasts before the extension
    extension: float  # how much later the extension moves the close
    ddo: float
    post: float
    order: float
    never_come: float = 0.02
    officer_never: float = 0.1
    preseason_fixes: float = 0.0  # the share of the audit's mobile findings mended before the portal opens
    # the Family ID registry as it is, not as the synthetic data makes it: some families gave it no mobile, some
    # another member's number (so the audit's mobile check can miss a wrong record, or flag a right one)
    registry_without_mobile: float = 0.12
    registry_other_member: float = 0.08
    # before the portal opens every record's number is asked by SMS "is this yours?" (seva audit confirm-mobiles):
    # the share of employees (of those who will come) who answer for their own number, and of strangers holding
    # a wrong number on record who answer "not mine". Assumptions, not measurements: the report says so.
    own_number_answered: float = 0.8
    stranger_says_not_mine: float = 0.3
    reminder_answered: float = 0.5  # of the employees who did not answer the first SMS, those who answer the second

    @property
    def remedy_grace(self) -> float:
        """Seven days on the season's scale (registration's first window stands for the 37 days from 25 Dec to
        31 Jan): how long an employee who reported a record fault in time has after the correction."""
        return 7 / 37 * self.registration

    @classmethod
    def for_size(
        cls, employees: int, seed: int, registration: float | None = None, fixes: float = 0.0, answered: float = 0.8
    ) -> Plan:
        # about 3 employees a second on average (a third of them in the surge): what the local stack on 2 cores serves;
        # 1,000 employees in 120 s overwhelmed it (bench/results/sim-2026-12-03T1450.md: 75 % refused as late)
        registration = registration or max(120.0, employees * 0.35)
        return cls(
            employees,
            seed,
            registration,
            extension=0.4 * registration,
            ddo=0.9 * registration,
            post=0.5 * registration,
            order=0.5 * registration,
            preseason_fixes=fixes,
            own_number_answered=answered,
        )

    def arrival(self, rng: random.Random) -> float | None:
        """Seconds after opening; None for one who never comes. A third early, a third spread over the window,
        a third in the surge of the last fifth before the (first) deadline."""
        if rng.random() < self.never_come:
            return None
        r = self.registration
        kind = rng.random()
        if kind < 1 / 3:
            return rng.triangular(0, 0.4 * r, 0)
        if kind < 2 / 3:
            return rng.uniform(0, r)
        return rng.uniform(0.8 * r, 0.99 * r)

    def officer_delay(self, rng: random.Random, window: float) -> float | None:
        """How long an officer takes over a step whose window is `window` seconds; None: never acts."""
        if rng.random() < self.officer_never:
            return None
        return rng.uniform(0.05, 0.7) * window


@dataclass
class Person:
    employee: SyntheticEmployee
    arrives: float | None
    first_failed_otp: float | None = None
    working_otp: float | None = None
    submitted: float | None = None
    reported: float | None = None  # "Why no OTP?" found a fault on the record (the case holds registration open)
    corrected: float | None = None  # the data owner corrected the record
    asked_why: list[str] = field(default_factory=list)
    stuck: str | None = None


class Season:
    def __init__(self, stack: LocalStack, plan: Plan, http: httpx.AsyncClient, db: asyncpg.Pool):
        self.stack, self.plan, self.http, self.db = stack, plan, http, db
        self.rng = random.Random(plan.seed)
        self.t0 = 0.0
        self.close_in_force = plan.registration
        self.calendar: SeasonCalendar  # the compressed season's calendar as stored (set before the season opens)
        self.tokens: dict[str, dict] = {}
        self.officer_delays: dict[str, float | None] = {}
        # employee id -> (when asked, the DDO asked, the department whose HoD is asked next)
        self.certificates_asked: dict[str, tuple[float, str, str]] = {}
        # employee id -> when a person in no database asked for a certificate for a new record
        self.new_records_asked: dict[str, float] = {}
        self.missing_posts: dict[str, set[str]] = {}  # a post missing from the list -> employees refused for it
        self.flagged: set[str] = set()  # the pre-season audit's "would get no OTP", with the employees' answers
        self.flagged_by_registry: set[str] = set()  # the same against the Family ID registry alone
        self.asked = self.answered = 0  # records whose number was asked by SMS before the opening; answers
        self.flagged_after_ask: set[str] = set()  # the audit after the first SMS's answers, before the reminder
        self.reminded = self.answered_reminder = 0  # the same question again where no answer came; answers
        self.preseason_margin = 0.0  # seconds between the end of the pre-season round and the opening (< 0: late)
        self.fixed: set[str] = set()  # of them, mended before the portal opened
        self.samples: list[tuple[float, Counter]] = []
        self.done = asyncio.Event()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def deadline_for(self, p: Person) -> float:
        """The registration deadline in force for this employee, in seconds from the opening: the case's own rule
        (contract.SeasonCalendar.registration_close_for) on the compressed calendar, with the close in force."""
        opens = self.calendar.registration_open

        def at(seconds: float | None) -> datetime | None:
            return None if seconds is None else opens + timedelta(seconds=seconds)

        in_force = replace(self.calendar, registration_close=at(self.close_in_force))
        return (in_force.registration_close_for(at(p.reported), at(p.corrected)) - opens).total_seconds()

    async def officer(self, officer_id: str) -> dict:
        if officer_id not in self.tokens:
            token = await asyncio.to_thread(self.stack.officer_token, officer_id)
            self.tokens[officer_id] = {"Authorization": f"Bearer {token}"}
        return self.tokens[officer_id]

    def delay_of(self, officer_id: str, window: float) -> float | None:
        if officer_id not in self.officer_delays:
            self.officer_delays[officer_id] = self.plan.officer_delay(self.rng, window)
        return self.officer_delays[officer_id]

    async def call(self, method: str, service: str, path: str, **kw) -> httpx.Response:
        for _ in range(60):
            try:
                r = await self.http.request(method, f"{self.stack.url(service)}{path}", **kw)
                if r.status_code < 500:
                    return r
            except httpx.TransportError:
                pass
            await asyncio.sleep(1)
        raise TimeoutError(f"{method} {service}{path}: no answer")

    # ---- employees ------------------------------------------------------------------------------------------

    async def _sign_in(self, p: Person) -> dict | None:
        mobile = p.employee.actual_mobile
        asked = datetime.now(UTC) - timedelta(seconds=1)
        await self.db.execute("DELETE FROM otp.send_log WHERE mobile = $1", mobile)  # compressed time: no 60 s gap
        r = await self.call("POST", "otp", "/otp/request", json={"mobile": mobile})
        if r.status_code != 202:
            return None
        code = await otp_since(self.db.fetchval, mobile, asked, wait=20.0)
        if code is None:
            return None
        r = await self.call("POST", "otp", "/otp/verify", json={"mobile": mobile, "code": code})
        return {"Authorization": f"Bearer {r.json()['token']}"} if r.status_code == 200 else None

    async def employee(self, p: Person) -> None:
        if p.arrives is None:
            p.stuck = "never came"
            return
        await asyncio.sleep(max(0.0, p.arrives - self.now()))
        m = p.employee.master
        auth = await self._sign_in(p)
        while auth is None:
            if p.first_failed_otp is None:
                p.first_failed_otp = self.now()
                r = await self.call(
                    "POST",
                    "otp",
                    "/otp/why-no-otp",
                    json={
                        "family_id": m["family_id"],
                        "date_of_birth": str(p.employee.ppp["date_of_birth"]),
                        "mobile": p.employee.actual_mobile,
                    },
                )
                p.asked_why = [c["code"] for c in r.json().get("causes", [])] if r.status_code == 200 else [r.text[:80]]
                if any(c in ("record_has_different_mobile", "record_inactive") for c in p.asked_why):
                    p.reported = self.now()
                    # the remedy: the DDO's verification certificate, then the data owner's correction
                    self.certificates_asked[m["employee_id"]] = (
                        self.now(),
                        f"OFF-{m['ddo_code']}",
                        m["department_code"],
                    )
                elif "not_in_government_database" in p.asked_why:
                    p.reported = self.now()
                    self.new_records_asked[m["employee_id"]] = self.now()  # the DDO knows the person
                elif not any(c in ("no_problem_found", "mobile_locked") for c in p.asked_why):
                    p.stuck = f"no OTP, and 'Why no OTP?' gave {p.asked_why}"
                    return
                # "no problem found": the SMS was slow; the answer says to ask again, and the employee does
            if self.now() > self.deadline_for(p) + 5:
                p.stuck = (
                    f"no working OTP before the deadline in force ({self.deadline_for(p):.0f} s): came at "
                    f"{p.arrives:.0f} s, 'Why no OTP?' gave {p.asked_why}"
                    + (f" at {p.reported:.0f} s" if p.reported is not None else "")
                    + (f", record corrected at {p.corrected:.0f} s" if p.corrected is not None else ", never corrected")
                )
                return
            await asyncio.sleep(3)
            auth = await self._sign_in(p)
        p.working_otp = self.now()
        for kind in REQUIRED:
            await self.call(
                "PUT",
                "applications",
                f"/applications/documents/{kind}",
                content=PDF,
                headers={**auth, "content-type": "application/pdf"},
            )
        digits = "5" + f"{int(m['employee_id'][3:]):010d}"
        await self.call(
            "PUT",
            "applications",
            "/applications/identity",
            headers=auth,
            json={"aadhaar_number": digits + verhoeff.calc_check_digit(digits), "pan": "ABCPE1234F"},
        )
        form = {k: str(m[k]) for k in ("department_code", "district", "post_code", "ddo_code", "date_of_joining")}
        r = await self.call("POST", "applications", "/applications", json=form, headers=auth)
        while r.status_code == 422 and r.json().get("code") == "unknown_post":
            # the post is missing from the list: the refusal told the data owners; the employee tries again
            if p.reported is None:
                p.reported = self.now()
            self.missing_posts.setdefault(m["post_code"], set()).add(m["employee_id"])
            if self.now() > self.deadline_for(p) + 5:
                break
            await asyncio.sleep(3)
            r = await self.call("POST", "applications", "/applications", json=form, headers=auth)
        if r.status_code == 201 or (r.status_code == 409 and r.json().get("code") == "application_exists"):
            p.submitted = self.now()
        else:
            p.stuck = f"submit refused: {r.json().get('code')}"

    # ---- officers -----------------------------------------------------------------------------------------

    async def officers(self) -> None:
        """Each desk looks every second; an officer acts on an item once it has waited their delay."""
        seen: dict[tuple[str, str], float] = {}

        def ready(officer_id: str, item: str, window: float) -> bool:
            delay = self.delay_of(officer_id, window)
            first = seen.setdefault((officer_id, item), self.now())
            return delay is not None and self.now() - first >= delay

        plan = self.plan
        while not self.done.is_set():
            try:

                def certifier(asked: float, ddo: str, department: str, item: str) -> str | None:
                    """The DDO once their delay has passed, or the HoD once the employee has waited a fifth of the
                    window (and the HoD's own delay has passed)."""
                    if ready(ddo, item, plan.registration * 0.3):
                        return ddo
                    hod = f"HOD-{department}"
                    waited = self.now() - asked > 0.2 * plan.registration
                    return hod if waited and ready(hod, item, plan.registration * 0.2) else None

                # certificates for a record's correction
                for employee_id, (asked, ddo, department) in list(self.certificates_asked.items()):
                    who = certifier(asked, ddo, department, f"cert:{employee_id}")
                    if who:
                        r = await self.call(
                            "POST",
                            "verification",
                            "/verification/certificates",
                            headers=await self.officer(who),
                            json={
                                "employee_id": employee_id,
                                **ATTESTED,
                                "remarks": "the mobile on record is not the employee's",
                            },
                        )
                        if r.status_code == 201:
                            del self.certificates_asked[employee_id]
                # a person in no database: certified for the office, naming the data owner
                for employee_id, asked in list(self.new_records_asked.items()):
                    m = self.people[employee_id].employee.master
                    who = certifier(asked, f"OFF-{m['ddo_code']}", m["department_code"], f"new:{employee_id}")
                    if who is None:
                        continue
                    r = await self.call(
                        "POST",
                        "verification",
                        "/verification/certificates/new-record",
                        headers=await self.officer(who),
                        json={
                            "family_id": m["family_id"],
                            "data_owner": m["data_owner"],
                            "department_code": m["department_code"],
                            "district": m["district"],
                            "ddo_code": m["ddo_code"],
                            **ATTESTED,
                            "remarks": "engaged since the date of joining; the record never reached the data owner",
                        },
                    )
                    if r.status_code == 201:
                        del self.new_records_asked[employee_id]
                # ... and the data owner adds the record (the case starts from it)
                for owner in ("HKRN", "TREASURY", "HARTRON"):
                    h = await self.officer(f"DATA-{owner}")
                    r = await self.call("GET", "otp", "/master/record-requests", headers=h)
                    for req in r.json() if r.status_code == 200 else []:
                        person = self.by_family.get(req["family_id"])
                        if person is None or not ready(f"DATA-{owner}", req["certificate_id"], plan.registration * 0.2):
                            continue
                        m = person.employee.master
                        record = {k: m[k] for k in ("employee_id", "employee_group", "name", "father_name", "mobile")}
                        r = await self.call(
                            "POST",
                            "otp",
                            "/master/employees",
                            headers=h,
                            json={
                                **record,
                                "certificate_id": req["certificate_id"],
                                "date_of_birth": str(m["date_of_birth"]),
                                "post_code": m["post_code"],
                                "date_of_joining": str(m["date_of_joining"]),
                                "service_periods": m["service_periods"],
                                "sanctioned_post": m["sanctioned_post"],
                                "pay_head": m["pay_head"],
                            },
                        )
                        if r.status_code == 201:
                            person.corrected = self.now()
                # a data officer adds the posts applications were refused for (HKRN's looks after the lists)
                h = await self.officer("DATA-HKRN")
                r = await self.call("GET", "applications", "/master/missing", headers=h)
                for entry in r.json() if r.status_code == 200 else []:
                    if entry["list_name"] != "post" or not ready(
                        "DATA-HKRN", f"post:{entry['code']}", plan.registration * 0.2
                    ):
                        continue
                    r = await self.call(
                        "POST",
                        "applications",
                        "/master/posts",
                        headers=h,
                        json={"code": entry["code"], "name": f"Post {entry['code']}"},
                    )
                    if r.status_code in (201, 409):
                        for employee_id in self.missing_posts.get(entry["code"], ()):
                            self.people[employee_id].corrected = self.now()
                # the data owners correct the mobile of each certificate's record (they always answer)
                for owner in ("HKRN", "TREASURY", "HARTRON"):
                    h = await self.officer(f"DATA-{owner}")
                    r = await self.call("GET", "otp", "/master/correction-requests", headers=h)
                    for req in r.json() if r.status_code == 200 else []:
                        if not ready(f"DATA-{owner}", req["certificate_id"], plan.registration * 0.2):
                            continue
                        person = self.people.get(req["employee_id"])
                        if person is None:
                            continue
                        r = await self.call(
                            "PATCH",
                            "otp",
                            f"/master/employees/{req['employee_id']}",
                            headers=h,
                            json={
                                "changes": {"mobile": person.employee.actual_mobile},
                                "reason": "verification certificate: the employee's own number",
                                "certificate_id": req["certificate_id"],
                            },
                        )
                        if r.status_code == 200:
                            person.corrected = self.now()
                # DDOs verify (escalated items go to the HoD, who acts on them)
                for row in await self.db.fetch(
                    "SELECT application_no, ddo_code, department, escalation_level FROM verification.task "
                    "WHERE status = 'pending'"
                ):
                    officer_id = (
                        f"OFF-{row['ddo_code']}"
                        if row["escalation_level"] == 0
                        else (f"HOD-{row['department']}" if row["escalation_level"] == 1 else f"AS-{row['department']}")
                    )
                    if ready(officer_id, row["application_no"], plan.ddo):
                        await self.call(
                            "POST",
                            "verification",
                            f"/verification/applications/{row['application_no']}/decision",
                            headers=await self.officer(officer_id),
                            json={"decision": "verified"},
                        )
                # Finance creates posts; once escalated, the Finance Secretary does
                h = await self.officer("FIN-1")
                r = await self.call("GET", "orders", "/posts/awaiting", headers=h, params={"limit": 500})
                awaiting = [x["application_no"] for x in r.json()] if r.status_code == 200 else []
                due = [a for a in awaiting if ready("FIN-1", a, plan.post)]
                escalated = [
                    x["application_no"]
                    for x in await self.db.fetch(
                        "SELECT e.application_no FROM orders.escalation e WHERE e.step = 'post_creation' AND NOT EXISTS "
                        "(SELECT 1 FROM orders.supernumerary_post p WHERE p.application_no = e.application_no)"
                    )
                ]
                if due:
                    await self.call("POST", "orders", "/posts", headers=h, json={"application_nos": due})
                escalated = [a for a in escalated if a not in due and ready("AS-FINANCE", a, plan.post)]
                if escalated:
                    await self.call(
                        "POST",
                        "orders",
                        "/posts",
                        headers=await self.officer("AS-FINANCE"),
                        json={"application_nos": escalated},
                    )
                # HoDs approve; once escalated, the department's Secretary does
                for row in await self.db.fetch(
                    "SELECT r.application_no, r.department, EXISTS (SELECT 1 FROM orders.escalation e WHERE "
                    "e.application_no = r.application_no AND e.step = 'order_issue') AS escalated "
                    "FROM orders.case_request r JOIN orders.supernumerary_post p USING (application_no) "
                    "WHERE r.approved_at IS NULL"
                ):
                    officer_id = f"{'AS' if row['escalated'] else 'HOD'}-{row['department']}"
                    if ready(officer_id, row["application_no"], plan.order):
                        await self.call(
                            "POST",
                            "orders",
                            f"/orders/{row['application_no']}/approve",
                            headers=await self.officer(officer_id),
                        )
            except (OSError, asyncpg.PostgresError, TimeoutError, httpx.HTTPError, ValueError):
                pass  # a slow moment: the desks look again
            await asyncio.sleep(1)

    # ---- the state ----------------------------------------------------------------------------------------

    async def extend(self) -> None:
        await asyncio.sleep(max(0.0, 0.5 * self.plan.registration - self.now()))
        new_close = self.calendar.registration_close + timedelta(seconds=self.plan.extension)
        r = await self.call(
            "POST",
            "applications",
            "/calendar/changes",
            headers=await self.officer("ADMIN-HR"),
            json={
                "step": "registration_close",
                "new_deadline": new_close.isoformat(),
                "reason": "the state extends registration",
            },
        )
        if r.status_code == 201:
            self.close_in_force = self.plan.registration + self.plan.extension

    async def sample(self, temporal) -> None:
        while not self.done.is_set():
            counts: Counter = Counter()
            for stage in STAGES:
                n = await temporal.count_workflows(f"CaseStage = '{stage}'")
                if n.count:
                    counts[stage] = n.count
            self.samples.append((self.now(), counts))
            await asyncio.sleep(5)

    async def audit_before_opening(self) -> set[str]:
        """The pre-season audit as the data owners would run it, before anything is mended: who it says would get
        no OTP (the report compares that with who then got none: recall and precision)."""
        from services.otp.preseason import BLOCKS_OTP, audit

        async with self.db.acquire() as conn:
            return {f.employee_id for f in await audit(conn) if f.code in BLOCKS_OTP}

    async def ask_whose_number(self, remind: bool = False) -> tuple[int, int]:
        """Before the portal opens, every record's number is asked by SMS whether it is the employee's (as `seva
        audit confirm-mobiles` does), or, with `remind`, asked again where no answer came (`--remind`); the phone
        that gets the message answers on the OTP service, or not: the employee for their own number, a stranger
        for a wrong one. Returns (messages sent, answers given)."""
        from deploy.local.phone import confirmation_link_code
        from services.otp.confirmation import ask_in

        before = await self.db.fetchval("SELECT count(*) FROM otp.sms_delivery WHERE template = 'mobile_confirmation'")
        sent = await ask_in(self.stack.database_url, self.stack.portal_url, remind_after_hours=0 if remind else None)
        give_up = time.monotonic() + 300
        while (  # the SMS go out through the outbox, Kafka and the gateway adapter
            await self.db.fetchval(
                "SELECT count(*) FROM otp.sms_delivery WHERE template = 'mobile_confirmation' AND outcome = 'delivered'"
            )
            < before + sent
            and time.monotonic() < give_up
        ):
            await asyncio.sleep(1)
        waiting = await self.db.fetch(
            "SELECT employee_id, mobile, confirmation_id FROM otp.mobile_confirmation WHERE answer IS NULL"
        )
        answers, answered = random.Random(self.plan.seed + (4 if remind else 3)), 0
        own_rate = self.plan.reminder_answered if remind else self.plan.own_number_answered
        for r in waiting:
            p = self.people.get(r["employee_id"])
            if p is None:
                continue
            if r["mobile"] == p.employee.actual_mobile:
                says = "mine" if p.arrives is not None and answers.random() < own_rate else None
            else:
                says = "not_mine" if answers.random() < self.plan.stranger_says_not_mine else None
            if says:
                cid = str(r["confirmation_id"])
                path = f"/otp/mobile-confirmations/{cid}/{confirmation_link_code(cid)}"
                if (await self.call("POST", "otp", path, json={"answer": says})).status_code == 200:
                    answered += 1
        return sent, answered

    async def preseason_fixes(self, share: float) -> int:
        """Before the portal opens, the pre-season audit's mobile findings are acted on for a share of them: the
        DDO certifies, the data owner sets the Family ID's number. Returns how many records were corrected."""
        from services.otp.preseason import audit

        async with self.db.acquire() as conn:
            flagged = [f for f in await audit(conn) if f.code in MOBILE_FINDINGS]
        chosen = [f for f in flagged if self.rng.random() < share]
        self.fixed = {f.employee_id for f in chosen}
        for f in chosen:
            person = self.people[f.employee_id]
            r = await self.call(
                "POST",
                "verification",
                "/verification/certificates",
                headers=await self.officer(f"OFF-{f.ddo_code}"),
                json={
                    "employee_id": f.employee_id,
                    **ATTESTED,
                    "remarks": f"pre-season audit: {f.code}",
                },
            )
            certificate = r.json()["certificate_id"]
            owner = await self.officer(f"DATA-{f.data_owner}")
            for _ in range(60):
                r = await self.call(
                    "PATCH",
                    "otp",
                    f"/master/employees/{f.employee_id}",
                    headers=owner,
                    json={
                        "changes": {"mobile": person.employee.actual_mobile},
                        "reason": "pre-season audit: the number the employee gave the DDO",
                        "certificate_id": certificate,
                    },
                )
                if r.status_code == 200:
                    break
                await asyncio.sleep(1)  # the certificate's request is on its way to the data owner
        return len(chosen)

    async def play(self, temporal, people: list[Person]) -> None:
        self.people = {p.employee.master["employee_id"]: p for p in people}
        self.by_family = {p.employee.master["family_id"]: p for p in people}
        self.t0 = time.monotonic()
        end = self.plan.registration + self.plan.extension + self.plan.ddo + self.plan.post + self.plan.order + 30
        tasks = [asyncio.create_task(self.officers()), asyncio.create_task(self.sample(temporal))]
        extension = asyncio.create_task(self.extend())
        try:
            with tqdm(total=len(people), desc="employees", unit="employee") as bar:

                async def one(p: Person) -> None:
                    try:
                        await self.employee(p)
                    except Exception as exc:  # noqa: BLE001  (a person's failure is a finding, not a crash)
                        p.stuck = f"the simulator met {type(exc).__name__}: {exc}"
                    bar.update(1)

                await asyncio.gather(*(one(p) for p in people), extension)
            while self.now() < end:
                closed = 0
                for stage in CLOSED:
                    closed += (await temporal.count_workflows(f"CaseStage = '{stage}'")).count
                if closed >= len(people):
                    break
                await asyncio.sleep(5)
        finally:
            self.done.set()
            await asyncio.gather(*tasks, return_exceptions=True)


def _compressed_calendar(plan: Plan, opens: datetime) -> SeasonCalendar:
    close = opens + timedelta(seconds=plan.registration)
    ddo = close + timedelta(seconds=plan.extension + plan.ddo)
    post = ddo + timedelta(seconds=plan.post)
    return SeasonCalendar(
        SEASON,
        0,
        opens,
        close,
        ddo,
        post,
        post + timedelta(seconds=plan.order),
        escalation_days=1,
        remedy_grace_days=plan.remedy_grace / 86400,
    )


async def _play(stack: LocalStack, plan: Plan, people: list[Person], data) -> tuple[Season, Counter, list[dict]]:
    from deploy.local.seed import migrate_all
    from services.common.db import create_pool

    temporal = await connect(Settings(env="dev", temporal_address=stack.temporal_address))
    await migrate_all(stack.database_url)
    calendar_pool = await create_pool(stack.database_url)
    # the import and the pre-season round (the audit, every number asked by SMS, the answers) happen before the
    # portal opens; the report says if they ran past it (the employees' window would then be shorter)
    opens = datetime.now(UTC) + timedelta(seconds=30 + 0.15 * plan.employees)
    calendar = await put_calendar(calendar_pool, _compressed_calendar(plan, opens), "simulator", "compressed season")
    await calendar_pool.close()
    # the registry's gaps and stale numbers, drawn from the seed
    noise = random.Random(plan.seed + 2)
    for e in data.employees:
        draw = noise.random()
        if draw < plan.registry_without_mobile:
            e.ppp["mobile"] = None
        elif draw < plan.registry_without_mobile + plan.registry_other_member:
            e.ppp["mobile"] = f"9{noise.randrange(10**9):09d}"  # a family member's number
    # the rare posts on some records are in no drop-down list
    for e in data.employees:
        if e.fault == "missing_dropdown":
            e.master["post_code"] = noise.choice(RARE_POSTS)
    # the records that never reached a data owner are left out; their Family IDs are in the registry
    on_record = [e for e in data.employees if e.fault != "not_in_database"]
    await import_employees(stack.database_url, temporal, SEASON, replace(data, employees=on_record))
    async with asyncpg.create_pool(stack.database_url, min_size=1, max_size=2) as registry:
        await registry.executemany(
            "INSERT INTO otp.ppp_registry (family_id, name, father_name, date_of_birth, mobile) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            [
                (e.ppp["family_id"], e.ppp["name"], e.ppp["father_name"], e.ppp["date_of_birth"], e.ppp["mobile"])
                for e in data.employees
                if e.fault == "not_in_database"
            ],
        )
    pool = await asyncpg.create_pool(stack.database_url, min_size=2, max_size=20)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            season = Season(stack, plan, http, pool)
            season.calendar = calendar
            season.people = {p.employee.master["employee_id"]: p for p in people}
            season.flagged_by_registry = await season.audit_before_opening()
            season.asked, season.answered = await season.ask_whose_number()
            season.flagged_after_ask = await season.audit_before_opening()
            season.reminded, season.answered_reminder = await season.ask_whose_number(remind=True)
            season.flagged = await season.audit_before_opening()
            season.fixed_before = await season.preseason_fixes(plan.preseason_fixes) if plan.preseason_fixes else 0
            season.preseason_margin = (calendar.registration_open - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(max(0.0, season.preseason_margin))
            await season.play(temporal, people)
        missed = [
            dict(r)
            for r in await pool.fetch(
                "SELECT step, officer_role, count(*) AS n FROM verification.missed_deadline GROUP BY 1, 2 ORDER BY 1"
            )
        ]
        final: Counter = Counter()
        for s in STAGES:
            n = (await temporal.count_workflows(f"CaseStage = '{s}'")).count
            if n:
                final[s] = n
    finally:
        await pool.close()
    return season, final, missed


def write_report(
    plan: Plan, people: list[Person], season: Season, final: Counter, missed: list[dict], out: Path
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    close = season.close_in_force
    rows = []
    not_through: list[str] = []
    for cause in ELIGIBLE_FAULTS:
        group = [p for p in people if p.employee.fault == cause]
        came = [p for p in group if p.arrives is not None]
        in_time = [p for p in came if p.submitted is not None and p.submitted <= season.deadline_for(p)]
        rows.append((cause or "none", len(group), len(came), len(in_time)))
        not_through += [
            f"- {p.employee.master['employee_id']} ({cause or 'no fault'}): {p.stuck or 'submitted after the deadline'}"
            for p in came
            if p not in in_time
        ]
    eligible_came = sum(r[2] for r in rows)
    held = [p for p in people if p.submitted is not None and close < p.submitted <= season.deadline_for(p)]
    through = sum(r[3] for r in rows)
    remedy = [
        p.working_otp - p.first_failed_otp
        for p in people
        if p.first_failed_otp is not None and p.working_otp is not None
    ]
    # the pre-season audit against what happened: of those on record who came (and were not mended before the
    # opening), who failed to get an OTP, and whom the audit had flagged
    on_record = [
        p
        for p in people
        if p.arrives is not None
        and p.employee.fault != "not_in_database"
        and p.employee.master["employee_id"] not in season.fixed
    ]
    failed = {p.employee.master["employee_id"] for p in on_record if p.first_failed_otp is not None}
    came = {p.employee.master["employee_id"] for p in on_record}
    unseen = sum(1 for p in people if p.employee.fault == "not_in_database" and p.first_failed_otp is not None)

    def measured(flagged_before: set[str]) -> str:
        flagged, caught = came & flagged_before, failed & flagged_before
        return (
            f"of {len(failed)} employees on record who came and failed to get an OTP, it had flagged {len(caught)} "
            f"(**recall {len(caught) / max(len(failed), 1):.1%}**, goal 95 %); of {len(flagged)} it flagged who "
            f"came, {len(caught)} did fail (**precision {len(caught) / max(len(flagged), 1):.1%}**, goal 80 %)"
        )

    audit_line = (
        f"Pre-season audit (run before anything was mended; the Family ID registry without a mobile for "
        f"{plan.registry_without_mobile:.0%} of families and with another member's number for "
        f"{plan.registry_other_member:.0%}). Against the registry alone: "
        f"{measured(season.flagged_by_registry)}. After asking every record's number by SMS "
        f"({season.asked} asked, {season.answered} answered; assumed: {plan.own_number_answered:.0%} of employees "
        f"who will come answer for their own number, {plan.stranger_says_not_mine:.0%} of strangers holding a wrong "
        f"one say so): {measured(season.flagged_after_ask)}. After the reminder to those who had not answered "
        f"({season.reminded} reminded, {season.answered_reminder} answered; assumed: {plan.reminder_answered:.0%} "
        f"of the silent employees answer it): {measured(season.flagged)}. "
        f"{unseen} more, in no database, failed too: an audit of the records cannot see them."
    )
    lines = [
        f"# Season simulation {stamp} UTC",
        "",
        f"`seva simulate --employees {plan.employees} --seed {plan.seed}`: registration {plan.registration:.0f} s, "
        f"extended half-way by {plan.extension:.0f} s; DDO {plan.ddo:.0f} s, post {plan.post:.0f} s, order "
        f"{plan.order:.0f} s after it; {plan.never_come:.0%} of employees never come, {plan.officer_never:.0%} of "
        "officers never act (escalation must carry their cases). Before the portal opened, "
        f"{getattr(season, 'fixed_before', 0)} records the pre-season audit flagged for their mobile were mended "
        f"({plan.preseason_fixes:.0%} of those flagged). The import and the pre-season round ended "
        + (
            f"{season.preseason_margin:.0f} s before the opening."
            if season.preseason_margin >= 0
            else f"**{-season.preseason_margin:.0f} s after the opening** (the employees' first window was shorter)."
        ),
        "",
        f'**Eligible employees who came and reached "submitted" before the deadline in force: {through} of '
        f"{eligible_came} ({through / max(eligible_came, 1):.1%}).** Of them, {len(held)} applied after the calendar's "
        "close, their registration held open because they had reported a fault on their record before it (until "
        f"the correction and {plan.remedy_grace:.0f} s after it, never past DDO verification).",
        "",
        "| trouble on the record | eligible employees | came | submitted in time |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c} | {n} | {came} | {ok} |" for c, n, came, ok in rows]
    lines += [
        "",
        audit_line,
        "",
        f"From the first failed OTP to a working one (seconds of simulated season, {len(remedy)} employees): "
        + (
            f"median {statistics.median(remedy):.0f}, p90 {sorted(remedy)[int(0.9 * (len(remedy) - 1))]:.0f}, max {max(remedy):.0f}."
            if remedy
            else "none."
        ),
        "",
        "Officer deadlines missed (and so escalated): "
        + (", ".join(f"{m['step']} by {m['officer_role']}: {m['n']}" for m in missed) or "none")
        + ".",
        "",
        "Cases at the end: " + ", ".join(f"{s} {n}" for s, n in final.most_common()) + ".",
        "",
        'Eligible employees who came and did not reach "submitted" in time, with the reason:',
        "",
        *(not_through or ["- none"]),
        "",
        f"![cases per stage](sim-{stamp}.svg)",
    ]
    (out / f"sim-{stamp}.svg").write_text(_chart(season.samples))
    report = out / f"sim-{stamp}.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def _chart(samples: list[tuple[float, Counter]]) -> str:
    """Cases per stage over the season: one line per stage seen, on the server as SVG."""
    width, height, left, bottom = 760, 360, 50, 30
    stages = [s for s in STAGES if any(c.get(s) for _, c in samples)]
    t_max = max([t for t, _ in samples] + [1.0])
    n_max = max([max(c.values(), default=0) for _, c in samples] + [1])
    colours = ["#1d4e89", "#b3261e", "#1e6b35", "#8a6d00", "#5c2d91", "#00695c", "#6d4c41", "#ad1457", "#37474f"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 20 * len(stages)}" font-size="12">',
        "<title>Cases per stage over the simulated season</title>",
    ]
    for i, stage in enumerate(stages):
        points = " ".join(
            f"{left + (width - left - 10) * t / t_max:.1f},{height - bottom - (height - bottom - 10) * c.get(stage, 0) / n_max:.1f}"
            for t, c in samples
        )
        colour = colours[i % len(colours)]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{left}" y="{height + 16 * (i + 1)}" fill="{colour}">{escape(stage)}</text>')
    parts.append(
        f'<text x="{left}" y="{height - 8}">0 s</text><text x="{width - 60}" y="{height - 8}">{t_max:.0f} s</text>'
    )
    parts.append(f'<text x="4" y="16">{n_max}</text></svg>')
    return "".join(parts)


def simulate(
    employees: int,
    seed: int,
    out: Path,
    registration_seconds: float | None = None,
    preseason_fixes: float = 0.0,
    answered: float = 0.8,
) -> Path:
    """Start a stack of its own (the local stack's supervisor is synchronous), play the season, stop it."""
    plan = Plan.for_size(employees, seed, registration_seconds, preseason_fixes, answered)
    data = generate(
        plan.employees,
        seed=plan.seed,
        fault_share=sum(FAULT_MIX.values()) / 100,
        first_id=900_001,
        fault_weights=FAULT_MIX,
    )
    rng = random.Random(plan.seed + 1)
    people = [Person(e, plan.arrival(rng)) for e in data.employees]
    with tempfile.TemporaryDirectory(prefix="seva-sim-") as folder:
        stack = LocalStack(
            Path(folder), SIM_PORTS, season_id=SEASON, extra_env={"SEVA_OTP_MAX_PER_CLIENT_HOUR": "1000000"}
        )
        stack.start()
        try:
            season, final, missed = asyncio.run(_play(stack, plan, people, data))
        finally:
            stack.stop()
    return write_report(plan, people, season, final, missed, out)
