"""`seva simulate --employees N`: a whole season on the real local stack (the production topology) with the
calendar compressed to minutes on the real calendar's proportions, and people who behave like people. Employees
arrive early, in the middle or in the surge before the deadline, and some never come; one whose record holds
another mobile gets no OTP, asks "Why no OTP?", asks the DDO for a verification certificate (the HoD when the DDO
does not answer), waits for the data owner's correction and registers. DDOs, Finance and HoDs act after delays
drawn per officer, and some never act, so escalation (its window compressed like every period) must carry the
case; the registration deadline is extended half-way, as the state did. Every OTP limit stays in force, its
clock compressed with the season's (SEVA_OTP_CLOCK_SCALE); an employee told to wait waits. Seeded: the same seed
gives the same people, arrivals and delays.

The judge is not the rule under test: what the system answered is held against the calendar published to
employees at that moment (bench/season_judge.py). The report (Markdown, an SVG chart of cases per stage, a CSV of
every case short of an order) answers: of the eligible employees who came, how many reached "submitted" in time;
who did not, why; was anyone let in late or refused in time; what load the stack carried and what it needed;
and how the pre-season audit's recall and precision move with the answer rates assumed."""

from __future__ import annotations

import asyncio
import csv
import math
import os
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
from temporalio.client import Client
from tqdm import tqdm

from contract import CaseStatus, SeasonCalendar, Stage
from contract.search_attributes import CURRENT_CASES, cases_where
from deploy.local.journey import application_form, preparation
from deploy.local.phone import OTP_IN_TEXT
from deploy.local.seed import import_employees
from deploy.local.stack import PRODUCTION, LocalStack, Ports
from deploy.local.synthetic import (
    REGISTRY_OTHER_MEMBER,
    REGISTRY_WITHOUT_MOBILE,
    MasterData,
    SyntheticEmployee,
    generate,
)
from ops.database import put_calendar
from ops.preseason_audit import ask_whose_number, keeps_from_otp, record_findings
from services.common.settings import Settings
from services.common.temporal import connect

from .season_judge import (
    Answer,
    AuditCell,
    Published,
    PublishedCalendar,
    Verdict,
    audit_cell,
    deadline_in_force,
    judge,
)

T = TypeVar("T")
Ready = Callable[[str, str, float], bool]  # (officer, item, the step's window) -> has their delay passed

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
LISTED = 40  # lines of a list the report shows; its CSV holds every one
IN_FLIGHT = 96  # the simulator's requests in flight at once (below its HTTP client's pool of 128 connections)
SIM_PORTS = Ports(30233, 30234, 30329, 30092, 30093, 30001, 30002, 30003, 30004, 30235, 30009)
SEASON = "sim"
SIMULATOR_AADHAAR = "5"  # the first digit of the simulator's Aadhaar numbers (deploy/local/journey.py)
# Faults of a record that the employee's own truth does not share: such an employee is eligible.
# the audit's findings about the mobile on record that the DDO and the data owner mend before the portal opens
MOBILE_FINDINGS = {"mobile_differs_from_family_id", "mobile_not_mine", "mobile_unconfirmed"}
ELIGIBLE_FAULTS = (None, "wrong_mobile", "ppp_mismatch", "wrong_pay_head", "not_in_database", "missing_dropdown")


# The real calendar's periods, in days (services/applications/calendar.py OFFICIAL_2025_26, DOMAIN.md): registration
# 25 Dec to 31 Jan, extended to 20 Feb; DDO verification by 28 Feb, posts by 31 Mar, orders by 30 Apr; a week per
# escalation level and a week's grace after a record's correction.
REGISTRATION_DAYS, EXTENSION_DAYS, DDO_DAYS, POST_DAYS, ORDER_DAYS = 37, 20, 28, 31, 30
ESCALATION_DAYS, REMEDY_GRACE_DAYS = 7, 7
# the answer rates the audit's table is drawn over (assumptions, not measurements)
EMPLOYEE_ANSWER_RATES = (0.2, 0.4, 0.6, 0.8, 0.9)
STRANGER_MINE_RATES = (0.0, 0.05, 0.1)


@dataclass
class Plan:
    """The season in seconds from its opening, on the real calendar's proportions (a season day is `day`
    seconds), and who does what when; all drawn from the seed."""

    employees: int
    seed: int
    day: float  # seconds of the simulation that stand for one day of the season
    never_come: float = 0.02
    officer_never: float = 0.1
    preseason_fixes: float = 0.0  # the share of the audit's mobile findings mended before the portal opens
    # before the portal opens every record's number is asked by SMS "is this yours?" (seva audit confirm-mobiles):
    # the share of employees who answer for their own number, and of strangers holding a wrong number on record
    # who answer "not mine", or tap "mine" (by mistake, or to be left alone). Assumptions, not measurements: the
    # report gives the audit's figures over a range of them.
    own_number_answered: float = 0.8
    stranger_says_not_mine: float = 0.3
    stranger_says_mine: float = 0.05
    reminder_answered: float = 0.5  # of the employees who did not answer the first SMS, those who answer the second

    @property
    def registration(self) -> float:
        return REGISTRATION_DAYS * self.day

    @property
    def extension(self) -> float:
        return EXTENSION_DAYS * self.day

    @property
    def ddo(self) -> float:
        """From the first close to the DDO verification deadline (8 days after the extended close, as in 2026)."""
        return DDO_DAYS * self.day

    @property
    def post(self) -> float:
        return POST_DAYS * self.day

    @property
    def order(self) -> float:
        return ORDER_DAYS * self.day

    @property
    def escalation(self) -> float:
        return ESCALATION_DAYS * self.day

    @property
    def remedy_grace(self) -> float:
        return REMEDY_GRACE_DAYS * self.day

    @property
    def clock_scale(self) -> float:
        """Season seconds per second of the simulation: the OTP limits' clock (SEVA_OTP_CLOCK_SCALE)."""
        return 86400 / self.day

    @classmethod
    def for_size(cls, employees: int, seed: int, day: float = 20.0, fixes: float = 0.0, answered: float = 0.8) -> Plan:
        return cls(employees, seed, day, preseason_fixes=fixes, own_number_answered=answered)

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

    def officer_delay(self, rng: random.Random, window: float, always: bool = False) -> float | None:
        """How long an officer takes over a step whose window is `window` seconds; None: never acts (unless
        `always`)."""
        never = rng.random() < self.officer_never
        delay = rng.uniform(0.05, 0.7) * window
        return None if never and not always else delay


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
    answers: list[Answer] = field(default_factory=list)  # every application attempt and the system's answer
    told_to_wait: Counter[str] = field(default_factory=Counter)  # 429s by code: the limits that bit this person


@dataclass(frozen=True)
class Call:
    """One request the simulator made, for the capacity report."""

    at: float
    service: str
    status: int  # 0: no answer (the connection failed or timed out)
    seconds: float


class Phones:
    """The employees' phones. One look at the SMS gateway's log each half second for what it accepted since the
    last look (the gateway numbers its messages), kept by number; a phone waiting for an OTP wakes when a message
    for it comes. Each phone asking the gateway for itself each second was hundreds of requests a second in the
    surge: the simulator's own load on the two cores the system runs on."""

    def __init__(self) -> None:
        self.seq = 0
        self.by_to: dict[str, list[dict[str, Any]]] = {}
        self.arrived = asyncio.Condition()

    async def take(self, messages: list[dict[str, Any]]) -> None:
        """Keep messages listed by the gateway (in its order) and wake the phones waiting."""
        fresh = [m for m in messages if m["seq"] > self.seq]
        for m in fresh:
            self.by_to.setdefault(m["to"], []).append(m)
            self.seq = m["seq"]
        if fresh:
            async with self.arrived:
                self.arrived.notify_all()

    async def watch(self, http: httpx.AsyncClient, gateway_url: str, done: asyncio.Event) -> None:
        while not done.is_set():
            try:
                r = await http.get(f"{gateway_url}/messages", params={"after": self.seq}, timeout=10)
                if r.status_code == 200:
                    await self.take(r.json())
            except (httpx.HTTPError, ValueError):
                pass  # the gateway is slow this moment: look again
            await asyncio.sleep(0.5)

    def code_for(self, mobile: str, after: datetime) -> str | None:
        for m in reversed(self.by_to.get(mobile, [])):
            if datetime.fromisoformat(m["at"]) < after:
                return None
            if code := OTP_IN_TEXT.search(m["text"]):
                return code.group(1)
        return None

    async def otp(self, mobile: str, after: datetime, wait: float) -> str | None:
        """The code in the newest OTP accepted for `mobile` since `after`; None if none came within `wait` s."""

        def found() -> bool:
            return self.code_for(mobile, after) is not None

        try:
            async with self.arrived:
                await asyncio.wait_for(self.arrived.wait_for(found), wait)
        except TimeoutError:
            return None
        return self.code_for(mobile, after)


class Season:
    def __init__(self, stack: LocalStack, plan: Plan, http: httpx.AsyncClient, db: asyncpg.Pool):
        self.stack, self.plan, self.http, self.db = stack, plan, http, db
        self.rng = random.Random(plan.seed)
        self.t0 = 0.0
        self.calendar: SeasonCalendar  # the compressed season's calendar as stored (set before the season opens)
        self.tokens: dict[str, dict[str, Any]] = {}
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
        self.samples: list[tuple[float, Counter[str]]] = []
        self.done = asyncio.Event()
        # requests in flight at once: ten thousand employees each with a request queued on the HTTP client's pool
        # spent the simulator's CPU on the pool's own bookkeeping (a run stalled at 228 employees); past this gate
        # a request gets a connection at once
        self.gate = asyncio.Semaphore(IN_FLIGHT)
        self.phones = Phones()
        self.published = PublishedCalendar()  # what GET /calendar said, read every few seconds
        self.calls: list[Call] = []
        self.load: list[tuple[float, float]] = []  # (when, the machine's 1-minute load average)
        self._replica: Counter[str] = Counter()
        self.desk_errors: Counter[tuple[str, str]] = Counter()  # (desk, error type) -> times an officers' desk met it
        self.desk_last_error: dict[str, str] = {}
        self.fixed_before = 0  # the audit's mobile findings mended before the portal opened
        self.audit_registry = AuditCell(0, 0, 0.0, 0.0, 0, 0, 0)  # the audit against the registry alone (after)
        self.audit_cells: list[AuditCell] = []  # the audit over answer rates (after the season)
        self.short: list[dict[str, Any]] = []  # every case short of an order, with its reason

    def now(self) -> float:
        return time.monotonic() - self.t0

    def deadline_for(self, p: Person, moment: float | None = None) -> float:
        """This employee's deadline at `moment` (now by default), read from the calendar published to employees
        then and what the employee was told (bench/season_judge.py): not the system's own rule."""
        return deadline_in_force(self.published, self.now() if moment is None else moment, p.reported, p.corrected)

    def verdict(self, p: Person) -> Verdict:
        return judge(p.answers, lambda t: self.deadline_for(p, t))

    async def officer(self, officer_id: str) -> dict[str, Any]:
        if officer_id not in self.tokens:
            token = await asyncio.to_thread(self.stack.officer_token, officer_id)
            self.tokens[officer_id] = {"Authorization": f"Bearer {token}"}
        return self.tokens[officer_id]

    def delay_of(self, officer_id: str, window: float) -> float | None:
        """An officer's delay over a kind of step (its window), drawn once from the seed and the officer's name, so
        the same seed gives the same officers whatever order the desks, now side by side, ask in: one who never
        acts on their own step may still act on what is escalated to them, in its window. The data owners always
        act (nothing escalates past them: a data owner who never acted left every record of theirs unmended)."""
        key = f"{officer_id}/{window:.0f}"
        if key not in self.officer_delays:
            rng = random.Random(f"{self.plan.seed}/{key}")
            self.officer_delays[key] = self.plan.officer_delay(rng, window, always=officer_id.startswith("DATA-"))
        return self.officer_delays[key]

    async def call(self, method: str, service: str, path: str, client: str = "10.0.0.1", **kw: Any) -> httpx.Response:
        """A request to one of the service's replicas in turn, from `client` (X-Forwarded-For through the trusted
        proxy: each office has its address, so the per-network OTP cap counts an office, not the simulator). A
        5xx or no answer is tried again each second for a minute, as a browser's user would; each try is logged."""
        urls = self.stack.urls(service)
        headers = {**kw.pop("headers", {}), "X-Forwarded-For": client}
        for _ in range(60):
            self._replica[service] += 1
            base = urls[self._replica[service] % len(urls)]
            try:
                async with self.gate:
                    began = time.monotonic()
                    r = await self.http.request(method, f"{base}{path}", headers=headers, **kw)
                self.calls.append(Call(began - self.t0, service, r.status_code, time.monotonic() - began))
                if r.status_code < 500:
                    return r
            except httpx.TransportError:
                self.calls.append(Call(began - self.t0, service, 0, time.monotonic() - began))
            await asyncio.sleep(1)
        raise TimeoutError(f"{method} {service}{path}: no answer")

    @staticmethod
    def office_address(p: Person) -> str:
        """Employees register from their office's connection (a district office's staff share one address)."""
        n = int.from_bytes(p.employee.master["ddo_code"].encode()[-6:], "big") % (250 * 250)
        return f"10.{1 + n // 250}.{n % 250}.7"

    async def read_calendar(self) -> bool:
        """Read the public calendar once, as an employee reads the notice: the judge's calendar."""
        try:
            r = await self.http.get(f"{self.stack.url('applications')}/calendar", timeout=10)
            if r.status_code != 200:
                return False
            c = r.json()
            opens = self.calendar.registration_open

            def at(field: str) -> float:
                return (datetime.fromisoformat(c[field]) - opens).total_seconds()

            grace = float(c["remedy_grace_days"]) * 86400  # a period of the calendar: real seconds here
            self.published.read(Published(self.now(), at("registration_close"), at("ddo_verification"), grace))
            return True
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    async def watch_calendar(self) -> None:
        """Read the public calendar every two seconds; and the machine's load with it."""
        while not self.done.is_set():
            await self.read_calendar()
            self.load.append((self.now(), os.getloadavg()[0]))
            await asyncio.sleep(2)

    # ---- employees ------------------------------------------------------------------------------------------

    async def _sign_in(self, p: Person) -> dict[str, Any] | float | None:
        """The employee's session; or, told to wait by a limit (429), how long; or None when no OTP came."""
        mobile = p.employee.actual_mobile
        asked = datetime.now(UTC) - timedelta(seconds=1)
        client = self.office_address(p)
        r = await self.call("POST", "otp", "/otp/request", client=client, json={"mobile": mobile})
        if r.status_code == 429:
            p.told_to_wait[r.json().get("code", "?")] += 1
            return float(r.headers.get("retry-after") or 1)
        if r.status_code != 202:
            return None
        code = await self._otp_on_phone(mobile, asked)
        if code is None:
            return None
        r = await self.call("POST", "otp", "/otp/verify", client=client, json={"mobile": mobile, "code": code})
        return {"Authorization": f"Bearer {r.json()['token']}"} if r.status_code == 200 else None

    async def _otp_on_phone(self, mobile: str, after: datetime, wait: float = 20.0) -> str | None:
        return await self.phones.otp(mobile, after, wait)

    async def employee(self, p: Person) -> None:
        if p.arrives is None:
            p.stuck = "never came"
            return
        await asyncio.sleep(max(0.0, p.arrives - self.now()))
        m = p.employee.master
        client = self.office_address(p)
        auth = await self._sign_in(p)
        while not isinstance(auth, dict):
            if isinstance(auth, float):  # a limit: the answer says how long to wait, and the employee waits
                await asyncio.sleep(min(auth, max(1.0, self.deadline_for(p) + 5 - self.now())))
            elif p.first_failed_otp is None:
                p.first_failed_otp = self.now()
                r = await self.call(
                    "POST",
                    "otp",
                    "/otp/why-no-otp",
                    client=client,
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
                    + (f"; told to wait {dict(p.told_to_wait)}" if p.told_to_wait else "")
                )
                return
            if not isinstance(auth, float):
                await asyncio.sleep(3)
            auth = await self._sign_in(p)
        p.working_otp = self.now()
        for step in preparation(m["employee_id"], SIMULATOR_AADHAAR):
            await self.call(step.method, "applications", step.path, client=client, **step.request(auth))
        form = application_form(m)
        r = await self._submit(p, form, auth)
        while r.status_code == 422 and r.json().get("code") == "unknown_post":
            # the post is missing from the list: the refusal told the data owners; the employee tries again
            if p.reported is None:
                p.reported = self.now()
            self.missing_posts.setdefault(m["post_code"], set()).add(m["employee_id"])
            if self.now() > self.deadline_for(p) + 5:
                break
            await asyncio.sleep(3)
            r = await self._submit(p, form, auth)
        if r.status_code == 201 or (r.status_code == 409 and r.json().get("code") == "application_exists"):
            p.submitted = self.now()
        else:
            p.stuck = f"submit refused: {r.json().get('code')}"

    async def _submit(self, p: Person, form: dict[str, Any], auth: dict[str, Any]) -> httpx.Response:
        """Submit, and keep the system's answer for the judge: when it was sent and answered, and the time the
        system gave the submission."""
        sent = self.now()
        r = await self.call(
            "POST", "applications", "/applications", client=self.office_address(p), json=form, headers=auth
        )
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        given = body.get("submitted_at") if isinstance(body, dict) else None
        opens = self.calendar.registration_open
        at = (datetime.fromisoformat(given) - opens).total_seconds() if given else None
        code = str(body.get("code", "")) if isinstance(body, dict) else ""
        p.answers.append(Answer(sent, self.now(), r.status_code, code, at))
        return r

    # ---- officers -----------------------------------------------------------------------------------------

    async def officers(self) -> None:
        """The desks, each on its own loop so one slow desk never holds another: each looks every second, and an
        officer acts on an item once it has waited their delay. Officers act side by side (every item's request
        at once, through the gate), as hundreds of DDOs do; one desk going through items one by one was a queue no
        real office has (a season of 10,000 ended with 2,000 cases never looked at). A desk that meets an error
        counts it for the report and looks again: it never stops silently."""
        seen: dict[tuple[str, str], float] = {}

        def ready(officer_id: str, item: str, window: float) -> bool:
            delay = self.delay_of(officer_id, window)
            first = seen.setdefault((officer_id, item), self.now())
            return delay is not None and self.now() - first >= delay

        async def desk(name: str, one_look: Callable[[Ready], Awaitable[None]]) -> None:
            while not self.done.is_set():
                try:
                    await one_look(ready)
                except Exception as exc:  # noqa: BLE001  (counted and shown in the report; the desk looks again)
                    self.desk_errors[(name, type(exc).__name__)] += 1
                    self.desk_last_error[name] = f"{type(exc).__name__}: {exc}"[:200]
                await asyncio.sleep(1)

        await asyncio.gather(
            desk("certificates", self._certify),
            desk("data owners", self._data_owners),
            desk("DDO verification", self._verify),
            desk("Finance", self._create_posts),
            desk("HoD approval", self._approve),
        )

    async def _each(self, items: Iterable[T], act: Callable[[T], Awaitable[object]]) -> None:
        """Act on every item at once (the gate bounds what is in flight)."""
        await asyncio.gather(*(act(item) for item in items))

    def _certifier(self, ready: Ready, asked: float, ddo: str, department: str, item: str) -> str | None:
        """The DDO once their delay has passed, or the HoD once the employee has waited a fifth of the window (and
        the HoD's own delay has passed)."""
        plan = self.plan
        if ready(ddo, item, plan.registration * 0.3):
            return ddo
        hod = f"HOD-{department}"
        waited = self.now() - asked > 0.2 * plan.registration
        return hod if waited and ready(hod, item, plan.registration * 0.2) else None

    async def _certify(self, ready: Ready) -> None:
        """Verification certificates: for a record's correction, and for a person in no database (certified for
        the office, naming the data owner)."""

        async def correction(employee_id: str) -> None:
            asked, ddo, department = self.certificates_asked[employee_id]
            who = self._certifier(ready, asked, ddo, department, f"cert:{employee_id}")
            if who is None:
                return
            r = await self.call(
                "POST",
                "verification",
                "/verification/certificates",
                headers=await self.officer(who),
                json={"employee_id": employee_id, **ATTESTED, "remarks": "the mobile on record is not the employee's"},
            )
            if r.status_code == 201:
                del self.certificates_asked[employee_id]

        async def new_record(employee_id: str) -> None:
            asked = self.new_records_asked[employee_id]
            m = self.people[employee_id].employee.master
            who = self._certifier(ready, asked, f"OFF-{m['ddo_code']}", m["department_code"], f"new:{employee_id}")
            if who is None:
                return
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

        await self._each(list(self.certificates_asked), correction)
        await self._each(list(self.new_records_asked), new_record)

    async def _data_owners(self, ready: Ready) -> None:
        """The data owners add the records certified as new (the case starts from one), correct the mobile of
        each certified record (they always answer), and HKRN's data officer adds the posts applications were
        refused for."""
        window = self.plan.registration * 0.2
        for owner in ("HKRN", "TREASURY", "HARTRON"):
            h = await self.officer(f"DATA-{owner}")

            async def add(req: dict[str, Any], owner: str = owner, h: dict[str, Any] = h) -> None:
                person = self.by_family.get(req["family_id"])
                if person is None or not ready(f"DATA-{owner}", req["certificate_id"], window):
                    return
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

            async def correct(req: dict[str, Any], owner: str = owner, h: dict[str, Any] = h) -> None:
                person = self.people.get(req["employee_id"])
                if person is None or not ready(f"DATA-{owner}", req["certificate_id"], window):
                    return
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

            r = await self.call("GET", "otp", "/master/record-requests", headers=h)
            await self._each(r.json() if r.status_code == 200 else [], add)
            r = await self.call("GET", "otp", "/master/correction-requests", headers=h)
            await self._each(r.json() if r.status_code == 200 else [], correct)
        h = await self.officer("DATA-HKRN")

        async def add_post(entry: dict[str, Any]) -> None:
            if entry["list_name"] != "post" or not ready("DATA-HKRN", f"post:{entry['code']}", window):
                return
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

        r = await self.call("GET", "applications", "/master/missing", headers=h)
        await self._each(r.json() if r.status_code == 200 else [], add_post)

    async def _verify(self, ready: Ready) -> None:
        """DDOs verify (escalated items go to the HoD, then the Secretary, who act on them)."""
        plan = self.plan

        async def decide(row: asyncpg.Record) -> None:
            level = row["escalation_level"]
            officer_id = (
                f"OFF-{row['ddo_code']}"
                if level == 0
                else (f"HOD-{row['department']}" if level == 1 else f"AS-{row['department']}")
            )
            if ready(officer_id, row["application_no"], plan.ddo if level == 0 else plan.escalation):
                await self.call(
                    "POST",
                    "verification",
                    f"/verification/applications/{row['application_no']}/decision",
                    headers=await self.officer(officer_id),
                    json={"decision": "verified"},
                )

        rows = await self.db.fetch(
            "SELECT application_no, ddo_code, department, escalation_level FROM verification.task "
            "WHERE status = 'pending'"
        )
        await self._each(rows, decide)

    async def _create_posts(self, ready: Ready) -> None:
        """Finance creates posts in batches; once escalated, the Finance Secretary does."""
        plan = self.plan
        h = await self.officer("FIN-1")
        awaiting: list[str] = []
        while True:  # every page: an item's wait starts when it is first listed
            r = await self.call(
                "GET", "orders", "/posts/awaiting", headers=h, params={"limit": 1000, "offset": len(awaiting)}
            )
            page = [x["application_no"] for x in r.json()] if r.status_code == 200 else []
            awaiting += page
            if len(page) < 1000:
                break
        due = [a for a in awaiting if ready("FIN-1", a, plan.post)]
        escalated = [
            x["application_no"]
            for x in await self.db.fetch(
                "SELECT e.application_no FROM orders.escalation e WHERE e.step = 'post_creation' AND NOT EXISTS "
                "(SELECT 1 FROM orders.supernumerary_post p WHERE p.application_no = e.application_no)"
            )
        ]
        for i in range(0, len(due), 500):
            await self.call("POST", "orders", "/posts", headers=h, json={"application_nos": due[i : i + 500]})
        escalated = [a for a in escalated if a not in set(due) and ready("AS-FINANCE", a, plan.escalation)]
        secretary = await self.officer("AS-FINANCE")
        for i in range(0, len(escalated), 500):
            await self.call(
                "POST", "orders", "/posts", headers=secretary, json={"application_nos": escalated[i : i + 500]}
            )

    async def _approve(self, ready: Ready) -> None:
        """HoDs approve; once escalated, the department's Secretary does."""
        plan = self.plan

        async def approve(row: asyncpg.Record) -> None:
            officer_id = f"{'AS' if row['escalated'] else 'HOD'}-{row['department']}"
            if ready(officer_id, row["application_no"], plan.escalation if row["escalated"] else plan.order):
                await self.call(
                    "POST", "orders", f"/orders/{row['application_no']}/approve", headers=await self.officer(officer_id)
                )

        rows = await self.db.fetch(
            "SELECT r.application_no, r.department, EXISTS (SELECT 1 FROM orders.escalation e WHERE "
            "e.application_no = r.application_no AND e.step = 'order_issue') AS escalated "
            "FROM orders.case_request r JOIN orders.supernumerary_post p USING (application_no) "
            "WHERE r.approved_at IS NULL AND r.closed_at IS NULL"
        )
        await self._each(rows, approve)

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
        if r.status_code != 201:
            print(f"the extension was refused: {r.status_code} {r.text[:200]}")

    async def sample(self, temporal: Client) -> None:
        while not self.done.is_set():
            counts: Counter[str] = Counter()
            for stage in STAGES:
                n = await temporal.count_workflows(cases_where(f"CaseStage = '{stage}'"))
                if n.count:
                    counts[stage] = n.count
            self.samples.append((self.now(), counts))
            await asyncio.sleep(5)

    async def audit_before_opening(self) -> set[str]:
        """The pre-season audit as the data owners would run it, before anything is mended: who it says would get
        no OTP (the report compares that with who then got none: recall and precision)."""
        async with self.db.acquire() as conn:
            return {f.employee_id for f in await record_findings(conn) if keeps_from_otp(f)}

    async def ask_whose_number(self, remind: bool = False) -> tuple[int, int]:
        """Before the portal opens, every record's number is asked by SMS whether it is the employee's (as `seva
        audit confirm-mobiles` does), or, with `remind`, asked again where no answer came (`--remind`); the phone
        that gets the message answers on the OTP service, or not: the employee for their own number, a stranger
        for a wrong one. Returns (messages sent, answers given)."""
        from deploy.local.phone import confirmation_link_code

        before = await self.db.fetchval("SELECT count(*) FROM otp.sms_delivery WHERE template = 'mobile_confirmation'")
        sent = await ask_whose_number(
            self.stack.database_url, self.stack.portal_url, remind_after_hours=0 if remind else None
        )
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
                x = answers.random()
                says = (
                    "mine"
                    if x < self.plan.stranger_says_mine
                    else "not_mine"
                    if x < self.plan.stranger_says_mine + self.plan.stranger_says_not_mine
                    else None
                )
            if says:
                cid = str(r["confirmation_id"])
                path = f"/otp/mobile-confirmations/{cid}/{confirmation_link_code(cid)}"
                if (await self.call("POST", "otp", path, json={"answer": says})).status_code == 200:
                    answered += 1
        return sent, answered

    async def preseason_fixes(self, share: float) -> int:
        """Before the portal opens, the pre-season audit's mobile findings are acted on for a share of them: the
        DDO certifies, the data owner sets the Family ID's number. Returns how many records were corrected."""
        async with self.db.acquire() as conn:
            flagged = [f for f in await record_findings(conn) if f.code in MOBILE_FINDINGS]
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

    async def play(self, temporal: Client, people: list[Person]) -> None:
        self.people = {p.employee.master["employee_id"]: p for p in people}
        self.by_family = {p.employee.master["family_id"]: p for p in people}
        # the simulator's clock reads seconds from the opening, as the system's timestamps do
        self.t0 = time.monotonic() - (datetime.now(UTC) - self.calendar.registration_open).total_seconds()
        plan = self.plan
        # the season's last deadline, and the escalation that carries an order no HoD approved (a Secretary's week)
        end = plan.registration + plan.ddo + plan.post + plan.order + 2 * plan.escalation + 30
        while not await self.read_calendar():  # the judge needs the published calendar before anyone comes
            await asyncio.sleep(1)
        tasks = [
            asyncio.create_task(self.officers()),
            asyncio.create_task(self.sample(temporal)),
            asyncio.create_task(self.watch_calendar()),
            asyncio.create_task(self.phones.watch(self.http, self.stack.sms_gateway_url, self.done)),
        ]
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
                    closed += (await temporal.count_workflows(cases_where(f"CaseStage = '{stage}'"))).count
                if closed >= (await temporal.count_workflows(CURRENT_CASES)).count:
                    break
                await asyncio.sleep(5)
        finally:
            self.done.set()
            await asyncio.gather(*tasks, return_exceptions=True)


def _compressed_calendar(plan: Plan, opens: datetime) -> SeasonCalendar:
    close = opens + timedelta(seconds=plan.registration)
    ddo = close + timedelta(seconds=plan.ddo)
    post = ddo + timedelta(seconds=plan.post)
    return SeasonCalendar(
        SEASON,
        0,
        opens,
        close,
        ddo,
        post,
        post + timedelta(seconds=plan.order),
        escalation_days=plan.escalation / 86400,
        remedy_grace_days=plan.remedy_grace / 86400,
    )


async def _audit_flags(conn: asyncpg.Connection, answers: dict[str, str | None] | None) -> set[str]:
    """Who the pre-season audit says would get no OTP, with the SMS answers set to `answers` (employee id ->
    'mine', 'not_mine' or None), or with no number asked at all (None). In a savepoint rolled back."""
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        if answers is None:
            await conn.execute("DELETE FROM otp.mobile_confirmation")
        else:
            await conn.execute("UPDATE otp.mobile_confirmation SET answer = NULL, answered_at = NULL")
            await conn.executemany(
                "UPDATE otp.mobile_confirmation SET answer = $2, answered_at = now() WHERE employee_id = $1",
                [(e, a) for e, a in answers.items() if a],
            )
        return {f.employee_id for f in await record_findings(conn) if keeps_from_otp(f)}
    finally:
        await savepoint.rollback()


async def audit_table(season: Season, people: list[Person]) -> tuple[AuditCell, list[AuditCell]]:
    """The audit's recall and precision against who then failed to get an OTP, over a range of answer rates: the
    registry alone, then every (employees answering, strangers tapping "mine") pair, strangers saying "not mine"
    at the plan's rate. The audit runs on the records as they were before the season (the data owners' corrections
    during it are undone first), with the answers drawn per record from the seed, in a transaction rolled back:
    the season already ran, and who failed does not depend on the answers (no record was mended on them)."""
    on_record = [
        p
        for p in people
        if p.arrives is not None
        and p.employee.fault != "not_in_database"
        and p.employee.master["employee_id"] not in season.fixed
    ]
    failed = {p.employee.master["employee_id"] for p in on_record if p.first_failed_otp is not None}
    came = {p.employee.master["employee_id"] for p in on_record}
    async with season.db.acquire() as conn:
        asked = {
            r["employee_id"]: r["mobile"]
            for r in await conn.fetch("SELECT employee_id, mobile FROM otp.mobile_confirmation")
        }
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.executemany(  # the records as the audit saw them before the opening
                "UPDATE otp.employee_master SET mobile = $2, status = $3 WHERE employee_id = $1 "
                "AND (mobile IS DISTINCT FROM $2 OR status <> $3)",
                [
                    (i, p.employee.master["mobile"], p.employee.master["status"])
                    for i, p in season.people.items()
                    if p.employee.fault != "not_in_database" and i not in season.fixed
                ],
            )
            registry_only = audit_cell(0, 0, failed, came, await _audit_flags(conn, None))
            cells = []
            for own in EMPLOYEE_ANSWER_RATES:
                for stranger_mine in STRANGER_MINE_RATES:
                    draw = random.Random(f"{season.plan.seed}/{own}/{stranger_mine}")
                    answers: dict[str, str | None] = {}
                    for employee_id, mobile in asked.items():
                        p = season.people.get(employee_id)
                        if p is None:
                            continue
                        x = draw.random()
                        if mobile == p.employee.actual_mobile:
                            answers[employee_id] = "mine" if x < own else None
                        elif x < stranger_mine:
                            answers[employee_id] = "mine"
                        elif x < stranger_mine + season.plan.stranger_says_not_mine:
                            answers[employee_id] = "not_mine"
                    cells.append(audit_cell(own, stranger_mine, failed, came, await _audit_flags(conn, answers)))
        finally:
            await tx.rollback()
    return registry_only, cells


async def short_of_order(temporal: Client, season: Season) -> list[dict[str, Any]]:
    """Every case that ended the season short of an order, with its stage and its reason in the case's own words
    (its last history note), and what the simulator saw of the employee."""
    rows: list[dict[str, Any]] = []
    async for wf in temporal.list_workflows(cases_where(f"CaseStage != '{Stage.ORDER_ISSUED}'")):
        rows.append({"workflow_id": wf.id})
    gate = asyncio.Semaphore(16)

    async def read(row: dict[str, Any]) -> None:
        async with gate:
            try:
                status = await temporal.get_workflow_handle(row["workflow_id"]).query("status", result_type=CaseStatus)
            except Exception as exc:  # noqa: BLE001  (a case that cannot be read is reported so)
                row.update(employee_id="?", stage="unreadable", reason=f"{type(exc).__name__}: {exc}"[:200])
                return
            p = season.people.get(status.employee_id)
            reason = status.needs_attention or (status.history[-1].note if status.history else "")
            if status.eligibility and not status.eligibility.eligible:
                reason = " ".join(status.eligibility.failed_reasons)
            row.update(
                employee_id=status.employee_id,
                stage=status.stage,
                reason=reason,
                fault=(p.employee.fault or "none") if p else "?",
                simulator=(p.stuck or "") if p else "",
            )

    await asyncio.gather(*(read(r) for r in rows))
    return sorted(rows, key=lambda r: (r.get("stage", ""), r.get("employee_id", "")))


async def _play(
    stack: LocalStack, plan: Plan, people: list[Person], data: MasterData
) -> tuple[Season, Counter[str], list[dict[str, Any]]]:
    from ops.database import migrate_all
    from services.common.db import create_pool

    temporal = await connect(Settings(env="dev", temporal_address=stack.temporal_address))
    await migrate_all(stack.database_url)
    calendar_pool = await create_pool(stack.database_url)
    # the import and the pre-season round (the audit, every number asked by SMS, the answers) happen before the
    # portal opens; the report says if they ran past it (the employees' window would then be shorter)
    opens = datetime.now(UTC) + timedelta(seconds=30 + 0.06 * plan.employees)
    calendar = await put_calendar(calendar_pool, _compressed_calendar(plan, opens), "simulator", "compressed season")
    await calendar_pool.close()
    # the rare posts on some records are in no drop-down list (the registry's own numbers come from the generator)
    noise = random.Random(plan.seed + 2)
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
        limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            season = Season(stack, plan, http, pool)
            season.calendar = calendar
            # the simulator's clock reads seconds from the opening (negative before it), as the system's times do
            season.t0 = time.monotonic() - (datetime.now(UTC) - calendar.registration_open).total_seconds()
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
            season.audit_registry, season.audit_cells = await audit_table(season, people)
            season.short = await short_of_order(temporal, season)
        missed = [
            dict(r)
            for r in await pool.fetch(
                "SELECT step, officer_role, count(*) AS n FROM verification.missed_deadline GROUP BY 1, 2 ORDER BY 1"
            )
        ]
        final: Counter[str] = Counter()
        for s in STAGES:
            n = (await temporal.count_workflows(cases_where(f"CaseStage = '{s}'"))).count
            if n:
                final[s] = n
    finally:
        await pool.close()
    return season, final, missed


def capacity(season: Season, people: list[Person]) -> list[str]:
    """What load the stack carried and what the season asked of it: employees arriving per second in the busiest
    minute, requests per second offered, how many got no answer or a 5xx, and latency, overall and in the busiest
    minute; with the machine's load average. Measured in the run, not asserted."""
    calls = [c for c in season.calls if c.at >= 0]  # from the opening (the pre-season round is before it)
    if not calls:
        return ["No request was made."]
    arrivals = sorted(p.arrives for p in people if p.arrives is not None)
    busiest_arrivals = max(
        (sum(1 for a in arrivals if t <= a < t + 60) for t in range(0, int(season.plan.registration) + 1, 10)),
        default=0,
    )
    by_minute: Counter[int] = Counter(int(c.at // 60) for c in calls)
    peak_minute, peak_calls = by_minute.most_common(1)[0]
    in_peak = [c for c in calls if int(c.at // 60) == peak_minute]
    failed = [c for c in calls if c.status == 0 or c.status >= 500]

    def p95(xs: list[float]) -> float:
        xs = sorted(xs)
        return xs[int(0.95 * (len(xs) - 1))] if xs else 0.0

    loads = [load for _, load in season.load]
    return [
        f"Employees arriving: at most {busiest_arrivals} in a minute ({busiest_arrivals / 60:.1f} a second), against "
        f"{len(arrivals) / max(season.plan.registration, 1):.2f} a second over the first window. Requests made: "
        f"{len(calls):,} ({len(failed):,} got no answer or a 5xx and were tried again, {len(failed) / len(calls):.1%}); "
        f"latency p50 {statistics.median([c.seconds for c in calls]):.2f} s, p95 {p95([c.seconds for c in calls]):.2f} s. "
        f"Busiest minute (minute {peak_minute} of the season): {peak_calls / 60:.1f} requests a second, p95 "
        f"{p95([c.seconds for c in in_peak]):.2f} s, {sum(1 for c in in_peak if c.status == 0 or c.status >= 500)} "
        f"without an answer or with a 5xx. The machine's 1-minute load average: median "
        f"{statistics.median(loads) if loads else 0:.1f}, max {max(loads, default=0):.1f} on {os.cpu_count()} cores.",
    ]


def p90(xs: list[float]) -> float:
    """The 90th percentile by nearest rank (of 30 and 55: 55)."""
    xs = sorted(xs)
    return xs[max(0, math.ceil(0.9 * len(xs)) - 1)]


def journey_lines(people: list[Person], verdicts: dict[str, Any]) -> list[str]:
    """Where an employee's time went, for those who submitted in time: from arrival to a working OTP, and from it
    to the submission the system took (seconds of the simulation); so a lapse in the surge can be put on the OTP
    or on the application."""

    def spread(xs: list[float]) -> str:
        xs = sorted(xs)
        if not xs:
            return "none"
        return f"median {statistics.median(xs):.1f} s, p90 {p90(xs):.1f} s, max {xs[-1]:.1f} s"

    to_otp, to_submit = [], []
    for p in people:
        v = verdicts[p.employee.master["employee_id"]]
        if not v.in_time or p.arrives is None or p.working_otp is None or p.first_failed_otp is not None:
            continue
        to_otp.append(p.working_otp - p.arrives)
        if v.submitted_at is not None:
            to_submit.append(v.submitted_at - p.working_otp)
    return [
        f"Journeys of those with no trouble getting an OTP who submitted in time ({len(to_otp)}): arrival to a "
        f"working OTP {spread(to_otp)}; working OTP to the submission taken {spread(to_submit)}."
    ]


def write_report(
    plan: Plan, people: list[Person], season: Season, final: Counter[str], missed: list[dict[str, Any]], out: Path
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    rows = []
    not_through: list[str] = []
    left_behind: list[dict[str, Any]] = []
    verdicts = {p.employee.master["employee_id"]: season.verdict(p) for p in people}
    for cause in ELIGIBLE_FAULTS:
        group = [p for p in people if p.employee.fault == cause]
        came = [p for p in group if p.arrives is not None]
        in_time = [p for p in came if verdicts[p.employee.master["employee_id"]].in_time]
        rows.append((cause or "none", len(group), len(came), len(in_time)))
        for p in came:
            if p in in_time:
                continue
            v = verdicts[p.employee.master["employee_id"]]
            why = p.stuck or (
                f"taken at {v.submitted_at:.0f} s, after the deadline in force ({season.deadline_for(p, v.submitted_at):.0f} s)"
                if v.submitted_at is not None
                else "never submitted"
            )
            not_through.append(f"- {p.employee.master['employee_id']} ({cause or 'no fault'}): {why}")
            left_behind.append({"employee_id": p.employee.master["employee_id"], "fault": cause or "none", "why": why})
    eligible_came = sum(r[2] for r in rows)
    through = sum(r[3] for r in rows)
    late = [i for i, v in verdicts.items() if v.let_in_late]
    refused = [i for i, v in verdicts.items() if v.refused_in_time]
    first_close = season.published.readings[0].close if season.published.readings else plan.registration
    held = [
        p
        for p in people
        if verdicts[p.employee.master["employee_id"]].in_time
        and (verdicts[p.employee.master["employee_id"]].submitted_at or 0)
        > season.published.at(verdicts[p.employee.master["employee_id"]].submitted_at or 0).close
    ]
    limited: Counter[str] = Counter()
    for p in people:
        limited.update(p.told_to_wait)
    remedy = [
        p.working_otp - p.first_failed_otp
        for p in people
        if p.first_failed_otp is not None and p.working_otp is not None
    ]
    unseen = sum(1 for p in people if p.employee.fault == "not_in_database" and p.first_failed_otp is not None)
    on_record = [
        p
        for p in people
        if p.arrives is not None
        and p.employee.fault != "not_in_database"
        and p.employee.master["employee_id"] not in season.fixed
    ]
    failed = {p.employee.master["employee_id"] for p in on_record if p.first_failed_otp is not None}
    came_ids = {p.employee.master["employee_id"] for p in on_record}

    def live(flagged: set[str]) -> str:
        c = audit_cell(0, 0, failed, came_ids, flagged)
        return f"recall {c.recall:.1%} ({c.caught}/{c.failed}), precision {c.precision:.1%} ({c.caught}/{c.flagged})"

    registry = season.audit_registry
    table = [
        '| employees who answer for their own number | strangers who tap "mine" | recall | precision |',
        "|---|---|---|---|",
        f"| (no SMS asked: the registry alone) | - | {registry.recall:.1%} ({registry.caught}/{registry.failed}) | "
        f"{registry.precision:.1%} ({registry.caught}/{registry.flagged}) |",
        *(
            f"| {c.employees_answer:.0%} | {c.strangers_say_mine:.0%} | {c.recall:.1%} ({c.caught}/{c.failed}) | "
            f"{c.precision:.1%} ({c.caught}/{c.flagged}) |"
            for c in season.audit_cells
        ),
    ]
    short = season.short
    short_stages = Counter(r.get("stage", "?") for r in short)
    short_csv = out / f"sim-{stamp}-short-of-order.csv"
    with short_csv.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["employee_id", "stage", "reason", "fault", "simulator", "workflow_id"])
        writer.writeheader()
        for r in short:
            writer.writerow({k: r.get(k, "") for k in writer.fieldnames})
    left_csv = out / f"sim-{stamp}-left-behind.csv"
    with left_csv.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["employee_id", "fault", "why"])
        writer.writeheader()
        writer.writerows(left_behind)
    why_counts = Counter((r["fault"], re.sub(r"EMP\d+|\d+(\.\d+)?", "N", r["why"])[:140]) for r in left_behind)
    journeys = journey_lines(people, verdicts)
    extended_to = season.published.readings[-1].close if season.published.readings else plan.registration
    lines = [
        f"# Season simulation {stamp} UTC",
        "",
        f"`seva simulate --employees {plan.employees} --seed {plan.seed} --day-seconds {plan.day:g}` on the production "
        f"topology (three Kafka brokers, two replicas of each service and cases worker, the HTTP SMS gateway). The "
        f"real calendar's proportions at {plan.day:g} s a day: registration {plan.registration:.0f} s (37 days), "
        f"extended half-way by {plan.extension:.0f} s (20 days; the published close went from {first_close:.0f} s "
        f"to {extended_to:.0f} s); DDO verification {plan.ddo:.0f} s after the first close, posts {plan.post:.0f} s "
        f"and orders {plan.order:.0f} s after that; escalation {plan.escalation:.0f} s a level (7 days). Every OTP "
        f"limit in force on the season's clock (SEVA_OTP_CLOCK_SCALE={plan.clock_scale:.0f}), each office on its own "
        f"address. {plan.never_come:.0%} of employees never come, {plan.officer_never:.0%} of officers never act on "
        "their own step. The import and the pre-season round ended "
        + (
            f"{season.preseason_margin:.0f} s before the opening."
            if season.preseason_margin >= 0
            else f"**{-season.preseason_margin:.0f} s after the opening** (the employees' first window was shorter)."
        ),
        "",
        f'**Eligible employees who came and reached "submitted" in time: {through} of {eligible_came} '
        f"({through / max(eligible_came, 1):.1%}).** Judged on what the system answered (the 201 and the time it "
        "gave) against the calendar published to employees at that moment and the hold the notice promises to one "
        "who reported a record fault in time (bench/season_judge.py), not on the system's own rule. "
        f"{len(held)} of them were taken after the published close, their registration held open. "
        f"**Let in after their deadline: {len(late)}**"
        + (f" ({', '.join(late[:10])})" if late else "")
        + f". **Refused as closed before their deadline: {len(refused)}**"
        + (f" ({', '.join(refused[:10])})" if refused else "")
        + ".",
        "",
        "| trouble on the record | eligible employees | came | submitted in time |",
        "|---|---|---|---|",
        *(f"| {c} | {n} | {came} | {ok} |" for c, n, came, ok in rows),
        "",
        "Told to wait by an OTP limit (429s, by code): "
        + (", ".join(f"{k} {n}" for k, n in limited.most_common()) or "none")
        + ".",
        "",
        "**Load and capacity.** " + " ".join(capacity(season, people)),
        "",
        "**Pre-season audit**, against who then failed to get an OTP (employees on record who came, none mended "
        f"before the opening). The Family ID registry has no mobile for {REGISTRY_WITHOUT_MOBILE:.0%} of families "
        f"and another member's for {REGISTRY_OTHER_MEMBER:.0%} (assumed); strangers holding a wrong number say \"not "
        f'mine" at {plan.stranger_says_not_mine:.0%} (assumed). Goals: recall 95 %, precision 80 %. The answers are '
        "drawn per record for each row and rolled back; who failed is this run's.",
        "",
        *table,
        "",
        f"In the run itself ({plan.own_number_answered:.0%} of employees answering, {plan.reminder_answered:.0%} of "
        f'the silent answering the reminder, {plan.stranger_says_mine:.0%} of strangers tapping "mine"): '
        f"{season.asked} asked, {season.answered} answered, {season.reminded} reminded, "
        f"{season.answered_reminder} answered the reminder. Measured then: the registry alone "
        f"{live(season.flagged_by_registry)}; after the answers {live(season.flagged_after_ask)}; after the reminder's "
        f"{live(season.flagged)}. {unseen} more, in no database, failed too: an audit of the records cannot see them.",
        "",
        f"From the first failed OTP to a working one (seconds of simulated season, {len(remedy)} employees): "
        + (
            f"median {statistics.median(remedy):.0f}, p90 {p90(remedy):.0f}, max {max(remedy):.0f}."
            if remedy
            else "none."
        ),
        "",
        *journeys,
        "",
        "The officers' desks (the simulator's own): "
        + (
            "; ".join(
                f"{desk} met {kind} {n} times (last: {season.desk_last_error.get(desk, '')})"
                for (desk, kind), n in season.desk_errors.most_common()
            )
            or "no errors"
        )
        + ".",
        "",
        "Officer deadlines missed (and so escalated): "
        + (", ".join(f"{m['step']} by {m['officer_role']}: {m['n']}" for m in missed) or "none")
        + ".",
        "",
        "Cases at the end: " + ", ".join(f"{s} {n}" for s, n in final.most_common()) + ".",
        "",
        f"**Every case short of an order: {len(short)}**, by stage: "
        + (", ".join(f"{s} {n}" for s, n in short_stages.most_common()) or "none")
        + f". Each with its reason in the case's words and what the simulator saw: [{short_csv.name}]({short_csv.name}).",
        "",
        *(
            f"- {r.get('employee_id')} {r.get('stage')}: {r.get('reason', '')[:160]}"
            for r in [
                r
                for r in short
                if r.get("stage") not in (Stage.INELIGIBLE, Stage.LAPSED_UNREGISTERED, Stage.LAPSED_NO_APPLICATION)
            ][:LISTED]
        ),
        "",
        f'Eligible employees who came and did not reach "submitted" in time: {len(left_behind)}, by what stopped them '
        f"(numbers as N; every one with the particulars in [{left_csv.name}]({left_csv.name})):",
        "",
        *(f"- {n} × ({fault}) {why}" for (fault, why), n in why_counts.most_common()),
        "",
        *(
            [f"The first {LISTED}:", "", *not_through[:LISTED]]
            if len(not_through) > LISTED
            else (not_through or ["- none"])
        ),
        "",
        f"![cases per stage](sim-{stamp}.svg)",
    ]
    (out / f"sim-{stamp}.svg").write_text(_chart(season.samples))
    report = out / f"sim-{stamp}.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def _chart(samples: list[tuple[float, Counter[str]]]) -> str:
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
    day_seconds: float = 20.0,
    preseason_fixes: float = 0.0,
    answered: float = 0.8,
) -> Path:
    """Start a stack of its own on the production topology (the local stack's supervisor is synchronous), play the
    season, stop it. Every OTP limit stays as configured, on the season's clock; the services take each office's
    address from X-Forwarded-For, the simulator being their trusted proxy (as the ingress is)."""
    plan = Plan.for_size(employees, seed, day_seconds, preseason_fixes, answered)
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
            Path(folder),
            SIM_PORTS,
            season_id=SEASON,
            topology=PRODUCTION,
            extra_env={"SEVA_OTP_CLOCK_SCALE": f"{plan.clock_scale:.3f}", "SEVA_TRUSTED_PROXIES": "127.0.0.1/32"},
        )
        stack.start()
        try:
            season, final, missed = asyncio.run(_play(stack, plan, people, data))
        finally:
            stack.stop()
    return write_report(plan, people, season, final, missed, out)
