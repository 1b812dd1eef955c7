"""`make faults`: the promise that nothing acknowledged is lost or doubled and no case is stuck, tried for real.

The production-shaped stack (three Kafka brokers, two replicas of every service and of the cases worker, the OTP
service on HttpSmsGateway against the local gateway process) on its own ports and data folder. For each fault, a
batch of employees and officers drive cases from OTP to order through the APIs, each writing every request and
answer to a ledger (bench/ledger.py) and never asking again for what was acknowledged; the fault is injected at
its moment, held, healed; then the ledger is reconciled with every service's database, the gateway's log and
Temporal. A row passes only with 0 lost, 0 doubled, 0 stalled, 0 wrong stage, 0 dead letters that were not
planted or expected, no HTTP 500, and everything back on its own."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from temporalio.client import Client

from contract import MASTERDATA_TOPIC, SMS_TOPIC, TOPICS, CaseStatus, Stage, case_workflow_id
from deploy.local.journey import application_form, preparation
from deploy.local.phone import otp_at_gateway, otp_since
from deploy.local.seed import import_employees
from deploy.local.stack import ENGINE_NAMES, FAULT_PORTS, PRODUCTION, SERVICES, LocalStack, Topology, replica_name
from deploy.local.synthetic import SyntheticEmployee, generate
from services.common.dead_letters import list_dead_letters
from services.common.events import envelope
from services.common.settings import Settings
from services.common.temporal import connect
from services.otp.sms import TEMPLATES

from .ledger import Ledger, Reconciliation, Stores, reconcile
from .run import interrupted

ROOT = Path(__file__).resolve().parents[1]
SEASON = "faults"
FAULTS_AADHAAR = "4"  # the first digit of the fault suite's Aadhaar numbers (deploy/local/journey.py)
POISON_KEY = "POISON"
OTP_WAIT = 60.0  # seconds the employee waits for an OTP before asking again
STAGE_RANK = {
    Stage.AWAITING_REGISTRATION: 0,
    Stage.AWAITING_APPLICATION: 1,
    Stage.AWAITING_DDO_VERIFICATION: 2,
    Stage.AWAITING_POST_CREATION: 3,
    Stage.AWAITING_HOD_APPROVAL: 4,
    Stage.ORDER_ISSUED: 5,
}


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


@dataclass
class Fault:
    name: str
    moment: str  # start (before anyone acts), employees (half submitted), ddo, finance, hod
    inject: Callable[[Suite], Awaitable[None]]
    hold: float = 0.0  # seconds between inject and heal
    heal: Callable[[Suite], Awaitable[None]] | None = None
    network: bool = False  # needs Toxiproxy between the services and their parts
    unready_for: str | None = None  # while held, every process must say in /readyz that it waits for this part


@dataclass
class RowResult:
    fault: str
    cases: int
    acts: int = 0  # acknowledged acts reconciled
    lost: int = 0
    doubled: int = 0
    stalled: int = 0
    wrong_stage: int = 0
    non_poison_dead_letters: int = 0
    parked_as_meant: int = 0  # dead letters the fault itself caused on purpose (poison, a refused SMS)
    recovered_in: float | None = None
    longest_behind: float = 0.0  # seconds the case furthest behind what the databases said had happened stayed so
    sms_p99: float | None = None  # seconds from an acknowledged OTP request to its SMS at the gateway (others)
    readiness: str = ""  # what /readyz said while the part was down (rows with unready_for)
    answers: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    at: str = ""
    revision: str = ""

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.doubled
            or self.stalled
            or self.wrong_stage
            or self.non_poison_dead_letters
            or self.answers.get("500")
            or self.recovered_in is None
            or self.readiness.startswith("NOT")
        )


# ---- the faults ----------------------------------------------------------------------------------------


def _kill_restart(name: str, hold: float = 10.0, moment: str = "employees", label: str | None = None) -> Fault:
    async def inject(s: Suite) -> None:
        s.stack.kill(name)

    async def heal(s: Suite) -> None:
        s.stack.restart(name)

    return Fault(label or f"kill -9 {name}, restarted after {hold:.0f} s", moment, inject, hold, heal)


def _pause(name: str, hold: float, moment: str = "employees") -> Fault:
    async def inject(s: Suite) -> None:
        s.stack.pause(name)

    async def heal(s: Suite) -> None:
        s.stack.resume(name)

    return Fault(f"{name} frozen (SIGSTOP) for {hold:.0f} s", moment, inject, hold, heal)


def _kafka_down(hold: float, label: str | None = None, unready: bool = False) -> Fault:
    nodes = [replica_name("kafka", n) for n in (1, 2, 3)]

    async def inject(s: Suite) -> None:
        for n in nodes:
            s.stack.kill(n)

    async def heal(s: Suite) -> None:
        for n in nodes:
            s.stack.restart(n)

    return Fault(
        label or f"the whole Kafka cluster down for {hold:.0f} s",
        "employees",
        inject,
        hold,
        heal,
        unready_for="Kafka" if unready else None,
    )


async def _poison(s: Suite) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=s.stack.kafka_bootstrap)
    await producer.start()
    try:
        for topic in [*TOPICS.values(), SMS_TOPIC, MASTERDATA_TOPIC]:
            for value in (
                b"\x00not json",
                b"[1, 2]",
                json.dumps({"no": "envelope"}).encode(),
                json.dumps(envelope("never.heard.of", "faults", POISON_KEY, {})).encode(),
                json.dumps({**envelope("huge", "faults", POISON_KEY, {}), "pad": "x" * 700_000}).encode(),
            ):
                await producer.send_and_wait(topic, value, key=POISON_KEY.encode())
    finally:
        await producer.stop()


def varied_messages(event_type: str) -> list[tuple[bytes | None, dict[str, Any], list[tuple[str, bytes | None]]]]:
    """Well-formed messages a producer may legally send that the code may not expect: each part varied in turn
    (key, headers, extra and missing fields, each field's type, sizes, characters). Keyed (or named) for people
    on no record, so no real case is told anything; each is an envelope, so only what a handler makes of it is
    tried. Returns (key, value, headers)."""
    someone = f"VARIED-{uuid.uuid4().hex[:6]}"
    base = envelope(event_type, "faults", someone, {})
    variants: list[tuple[bytes | None, dict[str, Any], list[tuple[str, bytes | None]]]] = [
        (someone.encode(), base, []),
        (None, {**base, "event_id": str(uuid.uuid4())}, []),  # no key at all
        (b"", {**base, "event_id": str(uuid.uuid4())}, []),  # an empty key
        ("कर्मचारी".encode(), {**base, "event_id": str(uuid.uuid4())}, []),  # a key in Devanagari
        (someone.encode(), {**base, "event_id": str(uuid.uuid4())}, [("traceparent", b"\xff\xfe not a trace")]),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4())}, [("x-extra", b""), ("x-extra", b"twice")]),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4())}, [("x-null", None)]),  # a header with no value
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "schema_version": 99, "extra": {"a": [1]}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"unexpected": True}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"application_no": 12345}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"application_no": None}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"application_no": ["a", "b"]}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"template": "no_such_template"}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"template": "otp", "params": 7}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"changes": "not a dict"}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"certificate_id": {"x": 1}}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"season_id": 2025}}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "occurred_at": "yesterday"}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "employee_id": ""}, []),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "employee_id": "x" * 10_000}, []),
        (
            someone.encode(),
            {**base, "event_id": str(uuid.uuid4()), "data": {"note": "\u0000\ud7ff\U0001f600" * 50}},
            [],
        ),
        (someone.encode(), {**base, "event_id": str(uuid.uuid4()), "data": {"deadline": "2026-13-45T99:00"}}, []),
    ]
    return variants


async def _varied(s: Suite) -> None:
    """Poison, and on every topic a consumer reads, every event type it knows, sent in each legal variation."""
    await _poison(s)
    from contract import EventType

    types = [v for k, v in vars(EventType).items() if k.isupper() and isinstance(v, str)]
    types += ["sms.requested", "master.correction_submitted", "certificate.issued", "order.issued"]
    producer = AIOKafkaProducer(bootstrap_servers=s.stack.kafka_bootstrap)
    await producer.start()
    try:
        for topic in [*TOPICS.values(), SMS_TOPIC, MASTERDATA_TOPIC]:
            for event_type in types:
                for key, value, headers in varied_messages(event_type):
                    s.planted_events.add(value["event_id"])
                    await producer.send_and_wait(topic, json.dumps(value).encode(), key=key, headers=headers)
    finally:
        await producer.stop()


async def _toxiproxy(s: Suite, method: str, path: str, body: dict[str, Any] | None = None) -> None:
    r = await s.http.request(method, s.stack.toxiproxy_api + path, json=body, timeout=10)
    if r.status_code >= 300 and not (method == "DELETE" and r.status_code == 404):
        raise RuntimeError(f"toxiproxy {method} {path}: {r.status_code} {r.text}")


def _network(label: str, hold: float, toxic: dict[str, Any] | None, only: tuple[str, ...] = ()) -> Fault:
    """A toxic on the proxies (`only` those, else all), or with no toxic every proxy disabled: a partition."""

    def chosen(s: Suite) -> list[str]:
        return [p for p in s.stack.proxies() if not only or p.split("-")[0] in only]

    async def inject(s: Suite) -> None:
        for proxy in chosen(s):
            if toxic is None:
                await _toxiproxy(s, "POST", f"/proxies/{proxy}", {"enabled": False})
            else:
                await _toxiproxy(s, "POST", f"/proxies/{proxy}/toxics", {"name": "fault", **toxic})

    async def heal(s: Suite) -> None:
        for proxy in chosen(s):
            if toxic is None:
                await _toxiproxy(s, "POST", f"/proxies/{proxy}", {"enabled": True})
            else:
                await _toxiproxy(s, "DELETE", f"/proxies/{proxy}/toxics/fault")

    return Fault(label, "employees", inject, hold, heal, network=True)


async def _gateway_control(s: Suite, **control: Any) -> None:
    r = await s.http.post(f"{s.stack.sms_gateway_url}/control", json=control, timeout=10)
    r.raise_for_status()


def _gateway_refuses_one_number(hold: float) -> Fault:
    """As a gateway does for a number on DND or unallocated: every other OTP must still go out in time."""

    async def inject(s: Suite) -> None:
        s.refused_employee = refused = s.row_employees[0]
        mobile = refused.actual_mobile
        s.expected_parked_keys.add(refused.master["employee_id"])
        await _gateway_control(s, refuse_numbers={mobile: "number is on the DND registry"})

    async def heal(s: Suite) -> None:
        await _gateway_control(s)

    return Fault(f"the SMS gateway refuses one employee's number (DND) for {hold:.0f} s", "start", inject, hold, heal)


def _gateway_refuses_the_otp_template(hold: float) -> Fault:
    async def inject(s: Suite) -> None:
        s.expected_parked_reasons.add("sms_refused")
        await _gateway_control(s, refuse_templates={TEMPLATES["otp"][0]: "template not registered with DLT"})

    async def heal(s: Suite) -> None:
        await _gateway_control(s)

    return Fault(f"the SMS gateway refuses the OTP template for {hold:.0f} s", "start", inject, hold, heal)


def _gateway_slow(seconds: float, hold: float) -> Fault:
    async def inject(s: Suite) -> None:
        await _gateway_control(s, latency_seconds=seconds)

    async def heal(s: Suite) -> None:
        await _gateway_control(s)

    return Fault(f"the SMS gateway answers after {seconds:.0f} s, for {hold:.0f} s", "start", inject, hold, heal)


async def _retry_officer_acts(s: Suite) -> None:
    s.duplicate_officer_acts = True


async def _hod_burst(s: Suite) -> None:
    s.hod_waits_for_all = True


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in [
        _kill_restart("cases-worker"),
        _kill_restart("otp"),
        _kill_restart("applications"),
        _kill_restart(
            "verification", moment="ddo", label="kill -9 verification during a bulk verify, restarted after 10 s"
        ),
        _kill_restart("orders", moment="hod", label="kill -9 orders during HoD bulk approval, restarted after 10 s"),
        _kill_restart("kafka-2", hold=20, label="one Kafka broker killed (the cluster runs on), back after 20 s"),
        _kafka_down(60),
        _pause("temporal", 60),
        _kill_restart("temporal", hold=5, label="Temporal server killed, restarted after 5 s"),
        _pause("postgres", 30),
        _kill_restart("postgres", hold=5, label="PostgreSQL killed, restarted after 5 s"),
        _network(
            "1 s of latency on every connection to PostgreSQL, Kafka and Temporal, for 30 s",
            30,
            {"type": "latency", "stream": "downstream", "attributes": {"latency": 1000, "jitter": 100}},
        ),
        _network("network partition: the services cut off from PostgreSQL, Kafka and Temporal for 30 s", 30, None),
        _network(
            "connections to PostgreSQL reset 0.3 s after they open (mid-transaction), for 20 s",
            20,
            {"type": "reset_peer", "stream": "downstream", "attributes": {"timeout": 300}},
            only=("postgres",),
        ),
        Fault("poison messages on every topic a consumer reads", "employees", _poison),
        Fault(
            "every officer act sent twice (a client retry after a timeout whose first attempt committed)",
            "ddo",
            _retry_officer_acts,
        ),
        _gateway_refuses_one_number(90),
        _gateway_refuses_the_otp_template(60),
        _gateway_slow(10, 90),
        _kill_restart("sms-gateway", hold=600, moment="start", label="the SMS gateway down for 10 minutes"),
        _kill_restart("temporal", hold=300, label="Temporal down for 5 minutes"),
        _kafka_down(180, label="the whole Kafka cluster down for 3 minutes (readiness must say so)", unready=True),
        Fault("a burst of HoD approvals: every case of the row approved in one act", "start", _hod_burst),
        Fault(
            "well-formed messages on every topic, each part varied as a producer may legally vary it",
            "employees",
            _varied,
        ),
    ]
}
SMS_REFUSAL = "the SMS gateway refuses one employee's number (DND) for 90 s"
QUICK = [
    SMS_REFUSAL,
    "kill -9 cases-worker, restarted after 10 s",
    "one Kafka broker killed (the cluster runs on), back after 20 s",
    "poison messages on every topic a consumer reads",
]


# ---- the people, through the APIs, each act written to the ledger ----------------------------------------


class Suite:
    def __init__(self, stack: LocalStack, db: asyncpg.Pool, temporal: Client, http: httpx.AsyncClient, ledger: Ledger):
        self.stack, self.db, self.temporal, self.http, self.ledger = stack, db, temporal, http, ledger
        self.replica = {s: itertools.cycle(stack.urls(s)) for s in SERVICES}
        self.answers: list[tuple[float, str]] = []
        self.tokens: dict[str, dict[str, Any]] = {}
        self._moment: tuple[str, asyncio.Event] | None = None
        self._reset_row([])

    def _reset_row(self, employees: list[Any]) -> None:
        self.row_employees = employees
        self.duplicate_officer_acts = False
        self.hod_waits_for_all = False
        self.hod_pending: dict[str, set[str]] = {}
        self.refused_employee: SyntheticEmployee | None = None
        self.expected_parked_keys: set[str] = set()
        self.expected_parked_reasons: set[str] = set()
        self.planted_events: set[str] = set()
        self.acknowledged: dict[str, set[str]] = {"verify": set(), "create_post": set(), "approve": set()}
        self.application_of: dict[str, str] = {}  # application_no -> employee_id, from acknowledged submissions

    async def call(
        self, method: str, service: str, path: str, *, act: str, who: str, employee_id: str = "", **kw: Any
    ) -> httpx.Response | None:
        """Like a client behind a load balancer: another replica on a refused connection, again after a 503
        (Retry-After, capped) or a timeout, each try a line of the ledger. None once the deadline passes."""
        give_up = time.monotonic() + 900
        while True:
            try:
                r = await self.http.request(method, next(self.replica[service]) + path, **kw)
                self.answers.append((time.monotonic(), str(r.status_code)))
                if r.status_code < 500:
                    return r
                self.ledger.write(who, act, employee_id, str(r.status_code))
                wait = min(float(r.headers.get("retry-after", 1)), 2.0)
            except httpx.TransportError as exc:
                self.answers.append((time.monotonic(), type(exc).__name__))
                self.ledger.write(who, act, employee_id, type(exc).__name__)
                wait = 0.5
            if time.monotonic() > give_up:
                return None
            await asyncio.sleep(wait)

    async def officer(self, officer_id: str) -> dict[str, Any]:
        if officer_id not in self.tokens:
            token = await asyncio.to_thread(self.stack.officer_token, officer_id)  # from the identity provider
            self.tokens[officer_id] = {"Authorization": f"Bearer {token}"}
        return self.tokens[officer_id]

    async def reached(self, moment: str) -> None:
        if self._moment and self._moment[0] == moment:
            self._moment[1].set()

    async def _otp(self, mobile: str, after: datetime) -> str | None:
        if self.stack.topology.http_sms_gateway:  # the phone: what the gateway accepted for the number
            return await otp_at_gateway(self.http, self.stack.sms_gateway_url, mobile, after, wait=OTP_WAIT)
        return await otp_since(self._fetchval, mobile, after, wait=OTP_WAIT)

    async def _fetchval(self, query: str, *args: Any) -> Any:
        """The suite's own reads wait out a database outage like everyone else."""
        return await self._read(self.db.fetchval, query, *args)

    async def _fetch(self, query: str, *args: Any) -> list[Any]:
        rows: list[Any] = await self._read(self.db.fetch, query, *args)
        return rows

    @staticmethod
    async def _read(how: Callable[..., Awaitable[Any]], query: str, *args: Any) -> Any:
        for _ in range(300):
            try:
                return await how(query, *args)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
                await asyncio.sleep(1)
        raise TimeoutError(f"the database did not answer for 5 minutes: {query[:60]}")

    async def employee(self, e: SyntheticEmployee, submitted: list[str], half: int) -> None:
        """Register with the OTP, upload documents and identity, submit: each step asked until it is
        acknowledged, and never again after."""
        m, mobile = e.master, e.actual_mobile
        eid = m["employee_id"]
        auth = None
        while auth is None:
            asked = datetime.now(UTC) - timedelta(seconds=1)
            r = await self.call(
                "POST",
                "otp",
                "/otp/request",
                act="otp_request",
                who="employee",
                employee_id=eid,
                json={"mobile": mobile},
            )
            if r is None:
                return
            self.ledger.write("employee", "otp_request", eid, str(r.status_code))
            if not r.is_success:
                await asyncio.sleep(1)
                continue
            code = await self._otp(mobile, asked)
            if code is None:
                continue
            r = await self.call(
                "POST",
                "otp",
                "/otp/verify",
                act="otp_verify",
                who="employee",
                employee_id=eid,
                json={"mobile": mobile, "code": code},
            )
            if r is None:
                return
            self.ledger.write("employee", "otp_verify", eid, str(r.status_code))
            if r.is_success:
                auth = {"Authorization": f"Bearer {r.json()['token']}"}
        for step in preparation(eid, FAULTS_AADHAAR):
            await self._until_acknowledged(step.act, eid, step.method, "applications", step.path, **step.request(auth))
        form = application_form(m)
        while True:
            r = await self.call(
                "POST",
                "applications",
                "/applications",
                act="submit",
                who="employee",
                employee_id=eid,
                json=form,
                headers=auth,
            )
            if r is None:
                return
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            application_no = body.get("application_no") or (body.get("details") or {}).get("application_no")
            self.ledger.write("employee", "submit", eid, str(r.status_code), application_no=application_no or "")
            if r.status_code == 201 or (r.status_code == 409 and body.get("code") == "application_exists"):
                if application_no:  # the ledger keeps the answer as it came, a number or none
                    self.application_of[application_no] = eid
                break
            await asyncio.sleep(1)
        submitted.append(eid)
        if len(submitted) == half:
            await self.reached("employees")

    async def _until_acknowledged(self, act: str, eid: str, method: str, service: str, path: str, **kw: Any) -> None:
        while True:
            r = await self.call(method, service, path, act=act, who="employee", employee_id=eid, **kw)
            if r is None:
                return
            self.ledger.write("employee", act, eid, str(r.status_code))
            if r.is_success:
                return
            await asyncio.sleep(1)

    async def officers(self, employees: list[Any], done: asyncio.Event) -> None:
        """DDOs verify, Finance creates posts, HoDs approve, each desk cleared in one bulk act, until done. Who
        sits at which desk comes from the employees' records, not from the services' databases; what a desk
        had acknowledged it never acts on again."""
        ddos = sorted({e.master["ddo_code"] for e in employees})
        departments = sorted({e.master["department_code"] for e in employees})

        async def desk(officer_id: str, service: str, pending_path: str, act_path: str, moment: str, act: str) -> None:
            h = await self.officer(officer_id)
            r = await self.call(
                "GET", service, pending_path, act="read_desk", who=officer_id, params={"limit": 500}, headers=h
            )
            if r is None or not r.is_success:
                return
            items = r.json()
            for item in items:
                if item.get("employee_id"):
                    self.application_of.setdefault(item["application_no"], item["employee_id"])
            pending = [p["application_no"] for p in items if p["application_no"] not in self.acknowledged[act]]
            if not pending:
                return
            if act == "approve" and self.hod_waits_for_all:
                # the burst: no HoD acts until every case of the row waits at some HoD's desk (each HoD sees only
                # their department's), then each clears their desk in one act
                ours = {a for a, e in self.application_of.items() if e in {x.master["employee_id"] for x in employees}}
                self.hod_pending[officer_id] = set(pending) & ours
                waiting = set().union(*self.hod_pending.values()) | self.acknowledged["approve"]
                if len(waiting) < len(employees):
                    return
            await self.reached(moment)
            for _ in range(2 if self.duplicate_officer_acts else 1):
                r = await self.call(
                    "POST", service, act_path, act=act, who=officer_id, headers=h, json={"application_nos": pending}
                )
                if r is None or not r.is_success:
                    if r is not None:
                        self.ledger.write(officer_id, act, "", str(r.status_code))
                    continue
                body = r.json()
                results = body["posts"] if act == "create_post" else body
                for item in results:
                    ok = act == "create_post" or item.get("ok")
                    application_no = item["application_no"]
                    eid = self.application_of.get(application_no, "")
                    self.ledger.write(
                        officer_id,
                        act,
                        eid,
                        "200" if ok else str(item.get("code")),
                        application_no=application_no,
                        post_id=item.get("post_id", ""),
                    )
                    if ok:
                        self.acknowledged[act].add(application_no)

        while not done.is_set():
            try:
                for d in ddos:
                    await desk(
                        f"OFF-{d}",
                        "verification",
                        "/verification/queue",
                        "/verification/decisions/bulk",
                        "ddo",
                        "verify",
                    )
                await desk("FIN-1", "orders", "/posts/awaiting", "/posts", "finance", "create_post")
                for d in departments:
                    await desk(f"HOD-{d}", "orders", "/orders/awaiting-approval", "/orders/approvals", "hod", "approve")
            except (OSError, TimeoutError, ValueError, KeyError):
                pass  # a service answered with something unreadable mid-fault: the officer tries again shortly
            await asyncio.sleep(0.5)

    # ---- one row -----------------------------------------------------------------------------------

    async def run_row(self, fault: Fault, employees: list[Any], recover_within: float) -> RowResult:
        self._reset_row(employees)
        ids = [e.master["employee_id"] for e in employees]
        row = RowResult(fault.name, len(ids))
        started = time.monotonic()
        moment = asyncio.Event()
        self._moment = (fault.moment, moment)
        done = asyncio.Event()
        submitted: list[str] = []
        readiness: list[str] = []
        behind = asyncio.create_task(self._watch_behind(employees, done))

        async def fault_at_its_moment() -> tuple[float, float]:
            await moment.wait()
            await asyncio.sleep(0.05)  # the act that reached the moment is in flight
            log(f"  inject: {fault.name}")
            injected = time.monotonic()
            try:
                await fault.inject(self)
                if fault.unready_for:
                    readiness.append(await self._readiness_while(fault.unready_for, fault.hold))
                else:
                    await asyncio.sleep(fault.hold)
            finally:  # whatever happened, the part is given back
                if fault.heal:
                    await fault.heal(self)
            log("  healed")
            return injected, time.monotonic()

        faulting = asyncio.create_task(fault_at_its_moment())
        if fault.moment == "start":
            moment.set()
            await asyncio.sleep(0.5)  # injected before anyone acts
        officers = asyncio.create_task(self.officers(employees, done))
        journeys = asyncio.gather(*(self.employee(e, submitted, max(1, len(ids) // 2)) for e in employees))
        try:
            await asyncio.wait_for(journeys, timeout=recover_within + fault.hold)
            injected, healed = await asyncio.wait_for(faulting, timeout=recover_within + fault.hold)
            all_done = await self._wait_all_ordered(ids, healed + recover_within)
            if all_done and await self._wait_ready(healed + recover_within):
                row.recovered_in = time.monotonic() - healed
        except TimeoutError:
            row.problems.append("the drive did not finish in time")
            injected = healed = time.monotonic()
        except Exception as exc:  # the fault itself could not be injected or healed: the row fails, the suite goes on
            row.problems.append(f"the fault could not be run: {exc!r}")
            injected = healed = time.monotonic()
        finally:
            done.set()
            faulting.cancel()
            await asyncio.gather(officers, faulting, return_exceptions=True)
        row.longest_behind = await behind
        row.readiness = readiness[0] if readiness else ""
        row.answers = Counter(a for t, a in self.answers if injected - 1 <= t)
        self.answers.clear()
        await self.check(row, employees, started)
        return row

    async def _readiness_while(self, part: str, hold: float) -> str:
        """Poll every process's readiness while the part is down: each must say, within the hold, that it is not
        ready and that it waits for this part."""
        # the probe says only ready or not; which part a process waits for is in the detail that ops read
        urls = [f"{u}/ops/readiness" for s in SERVICES for u in self.stack.urls(s)]
        urls += [
            self.stack.health_url(r).replace("/readyz", "/ops/readiness")
            for r in range(1, self.stack.topology.replicas + 1)
        ]
        token = await asyncio.to_thread(self.stack.officer_token, "OPS-1")  # fresh: the suite outlasts a token
        ops = {"Authorization": f"Bearer {token}"}
        said: dict[str, float] = {}
        began = time.monotonic()
        while time.monotonic() - began < hold:
            for url in urls:
                if url in said:
                    continue
                try:
                    r = await self.http.get(url, timeout=5, headers=ops)
                    problems = [c.get("problem") or "" for c in r.json().get("components", [])]
                    if r.status_code == 503 and any(part.lower() in p.lower() for p in problems):
                        said[url] = time.monotonic() - began
                except (httpx.TransportError, ValueError):
                    pass
            await asyncio.sleep(2)
        silent = [u for u in urls if u not in said]
        if silent:
            return f"NOT unready: {len(silent)} of {len(urls)} processes said ready with {part} down ({silent[:2]})"
        return f"every process ({len(urls)}) unready naming {part} within {max(said.values()):.0f} s"

    async def _watch_behind(self, employees: list[Any], done: asyncio.Event) -> float:
        """Every 2 s, what the databases say happened to each case against the stage the case is at: how long
        the case furthest behind stayed behind (a lost signal shows as a case behind until the run ends)."""
        ids = [e.master["employee_id"] for e in employees]
        since: dict[str, float] = {}
        longest = 0.0
        while not done.is_set():
            try:
                said = await self._database_ranks(ids)
                cases = await asyncio.gather(*(self._case(i) for i in ids))
                now = time.monotonic()
                for eid, case in zip(ids, cases):
                    rank = STAGE_RANK.get(case.stage, -1) if case else -1
                    if case is not None and said.get(eid, 0) > rank:
                        since.setdefault(eid, now)
                        longest = max(longest, now - since[eid])
                    else:
                        since.pop(eid, None)
            except Exception:  # a part is down: the next look counts the time
                pass
            try:
                await asyncio.wait_for(done.wait(), 2)
            except TimeoutError:
                pass
        return longest

    async def _database_ranks(self, ids: list[str]) -> dict[str, int]:
        rows = await self.db.fetch(
            "SELECT e.id, "
            " CASE WHEN o.application_no IS NOT NULL THEN 5 WHEN p.application_no IS NOT NULL THEN 4"
            " WHEN d.application_no IS NOT NULL THEN 3 WHEN a.application_no IS NOT NULL THEN 2"
            " WHEN c.employee_id IS NOT NULL THEN 1 ELSE 0 END AS rank "
            "FROM unnest($1::text[]) AS e(id) "
            "LEFT JOIN applications.application a ON a.employee_id = e.id "
            "LEFT JOIN LATERAL (SELECT application_no FROM verification.decision WHERE application_no = a.application_no"
            " AND decision = 'verified' LIMIT 1) d ON true "
            "LEFT JOIN orders.supernumerary_post p ON p.application_no = a.application_no "
            "LEFT JOIN orders.service_security_order o ON o.application_no = a.application_no "
            "LEFT JOIN LATERAL (SELECT employee_id FROM otp.otp_challenge WHERE employee_id = e.id AND status = 'used'"
            " LIMIT 1) c ON true",
            ids,
            timeout=5,
        )
        return {r["id"]: r["rank"] for r in rows}

    async def _case(self, employee_id: str) -> CaseStatus | None:
        try:
            return await asyncio.wait_for(
                self.temporal.get_workflow_handle(case_workflow_id(employee_id, SEASON)).query(
                    "status", result_type=CaseStatus
                ),
                10,
            )
        except Exception:
            return None

    async def _wait_all_ordered(self, ids: list[str], until: float) -> bool:
        while time.monotonic() < until:
            statuses = await asyncio.gather(*(self._case(i) for i in ids))
            if all(s is not None and s.stage == Stage.ORDER_ISSUED for s in statuses):
                return True
            await asyncio.sleep(2)
        return False

    async def _wait_ready(self, until: float) -> bool:
        urls = [f"{u}/readyz" for s in SERVICES for u in self.stack.urls(s)]
        urls += [self.stack.health_url(r) for r in range(1, self.stack.topology.replicas + 1)]
        while time.monotonic() < until:
            try:
                answers = await asyncio.gather(*(self.http.get(u, timeout=5) for u in urls))
                if all(a.status_code == 200 for a in answers):
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(1)
        return False

    async def stores(self, ids: list[str]) -> Stores:
        """What every store holds for these employees, read by the suite itself."""
        statuses = await asyncio.gather(*(self._case(i) for i in ids))
        applications = {
            r["application_no"]: r["employee_id"]
            for r in await self._fetch(
                "SELECT application_no, employee_id FROM applications.application WHERE employee_id = ANY($1)", ids
            )
        }
        numbers = list(applications)
        decisions: dict[str, list[str]] = {}
        for r in await self._fetch(
            "SELECT application_no, decision FROM verification.decision WHERE application_no = ANY($1) ORDER BY round",
            numbers,
        ):
            decisions.setdefault(r["application_no"], []).append(r["decision"])
        posts: dict[str, list[str]] = {}
        for r in await self._fetch(
            "SELECT application_no, post_id FROM orders.supernumerary_post WHERE application_no = ANY($1)", numbers
        ):
            posts.setdefault(r["application_no"], []).append(r["post_id"])
        approvals = {
            r["application_no"]: r["approved_at"] is not None
            for r in await self._fetch(
                "SELECT application_no, approved_at FROM orders.case_request WHERE application_no = ANY($1)", numbers
            )
        }
        orders: dict[str, list[str]] = {}
        for r in await self._fetch(
            "SELECT application_no, order_no FROM orders.service_security_order WHERE application_no = ANY($1)", numbers
        ):
            orders.setdefault(r["application_no"], []).append(r["order_no"])
        registered = {
            r["key"]
            for r in await self._fetch(
                "SELECT DISTINCT key FROM otp.outbox WHERE event_type = 'otp.verified' AND key = ANY($1)", ids
            )
        }
        gateway = await self.stores_gateway()
        audit_doubles = [
            f"audit {schema}: {r['action']} on {r['subject']} recorded twice"
            for schema in ("verification", "orders")
            for r in await self._fetch(
                f"SELECT body::jsonb ->> 'action' AS action, body::jsonb ->> 'subject' AS subject "
                f"FROM {schema}.audit_log GROUP BY 1, 2 HAVING count(*) > 1"
            )
        ]
        return Stores(
            cases=dict(zip(ids, statuses)),
            applications=applications,
            decisions=decisions,
            posts=posts,
            approvals=approvals,
            orders=orders,
            registered=registered,
            gateway=gateway,
            audit_doubles=audit_doubles,
        )

    async def check(self, row: RowResult, employees: list[Any], since: float) -> Reconciliation:
        """The ledger against every store, and the dead letters of the row."""
        ids = [e.master["employee_id"] for e in employees]
        mobiles = {e.master["employee_id"]: e.actual_mobile for e in employees}
        found = reconcile(self.ledger, ids, await self.stores(ids), mobiles)
        row.acts, row.lost, row.doubled = found.acts, len(found.lost), len(found.doubled)
        row.stalled, row.wrong_stage = len(found.stalled), len(found.wrong_stage)
        row.problems += found.lost + found.doubled + found.stalled + found.wrong_stage
        row.sms_p99 = self._sms_p99(employees, await self.stores_gateway())
        letters = await list_dead_letters(self.stack.kafka_bootstrap)
        after = datetime.now(UTC) - timedelta(seconds=time.monotonic() - since)
        for entry in letters:
            r = entry.record
            at = datetime.fromisoformat(r.get("dead_lettered_at", "1970-01-01T00:00:00+00:00"))
            if at < after:
                continue
            if (
                r.get("key") == POISON_KEY
                or r.get("event_id") in self.planted_events
                or (r.get("key") or "").startswith("VARIED-")
                or (r.get("key") in self.expected_parked_keys and entry.reason == "sms_refused")
                or entry.reason in self.expected_parked_reasons
            ):
                row.parked_as_meant += 1
            else:
                row.non_poison_dead_letters += 1
                row.problems.append(f"dead letter {entry.ref}: {entry.reason} {r.get('error', '')[:80]}")
        if self.refused_employee is not None and not any(
            e.reason == "sms_refused" and e.record.get("key") == self.refused_employee.master["employee_id"]
            for e in letters
        ):
            row.problems.append("the refused number's SMS was not parked with the gateway's reason")
            row.lost += 1
        return found

    async def stores_gateway(self) -> list[dict[str, Any]]:
        """Every message the SMS gateway accepted, in order (waiting out a gateway restarting after its row)."""
        if not self.stack.topology.http_sms_gateway:
            return []
        for _ in range(60):
            try:
                return list((await self.http.get(f"{self.stack.sms_gateway_url}/messages", timeout=30)).json())
            except httpx.TransportError:
                await asyncio.sleep(1)
        raise TimeoutError("the SMS gateway did not answer for a minute")

    def _sms_p99(self, employees: list[Any], gateway: list[dict[str, Any]]) -> float | None:
        """Seconds from each acknowledged OTP request to the first SMS at the gateway for that number after it,
        for every employee but the one whose number is refused: the ordinary time the others must keep."""
        waits = []
        for e in employees:
            if e is self.refused_employee:
                continue
            times = sorted(
                datetime.fromisoformat(m["at"]).timestamp() for m in gateway if m["to"][-10:] == e.actual_mobile[-10:]
            )
            for line in self.ledger.acknowledged("otp_request", {e.master["employee_id"]}):
                after = [t - line.at for t in times if t >= line.at - 1.0]
                if after:
                    waits.append(max(0.0, after[0]))
        if not waits:
            return None
        waits.sort()
        return waits[min(len(waits) - 1, int(0.99 * len(waits)))]


# ---- planted faults: the check must be able to fail --------------------------------------------------


async def plant_and_check(suite: Suite, employees: list[Any]) -> tuple[RowResult, Reconciliation]:
    """Behind the system's back, after a row that passed: delete one acknowledged DDO decision from the
    verification database, and have the gateway take one OTP's event a second time. The check must say
    lost = 1 and doubled = 1."""
    verified = suite.ledger.acknowledged("verify", {e.master["employee_id"] for e in employees})
    victim = verified[0].ids["application_no"]
    async with suite.db.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")  # past the tables' own guards
        await conn.execute("DELETE FROM verification.decision WHERE application_no = $1", victim)
    mobiles = {e.actual_mobile[-10:] for e in employees}
    accepted = [m for m in await suite.stores_gateway() if m["to"][-10:] in mobiles and m.get("key")]
    again = accepted[0]
    await _gateway_control(suite, honour_keys=False)
    r = await suite.http.post(
        f"{suite.stack.sms_gateway_url}/sms",
        json={"to": again["to"], "template_id": again["template_id"], "text": again["text"]},
        headers={"Authorization": f"Bearer {_gateway_token()}", "Idempotency-Key": again["key"]},
    )
    r.raise_for_status()
    await _gateway_control(suite)
    row = RowResult(f"planted: decision of {victim} deleted, SMS event {again['key'][:8]} sent twice", len(employees))
    found = await suite.check(row, employees, time.monotonic())
    return row, found


def _gateway_token() -> str:
    from deploy.local.stack import SMS_GATEWAY_TOKEN

    return SMS_GATEWAY_TOKEN


# ---- the run --------------------------------------------------------------------------------------------


async def run_suite(
    stack: LocalStack,
    per_row: int,
    faults: list[Fault],
    recover_within: float,
    ledger: Ledger,
    plant: bool = False,
    on_row: Callable[[RowResult], object] | None = None,
) -> list[RowResult]:
    temporal = await connect(Settings(env="dev", temporal_address=stack.temporal_address))
    cases = per_row * len(faults)
    data = generate(cases, seed=31, fault_share=0.0, first_id=700_001)
    log(f"importing {cases} employees and starting their cases")
    await import_employees(stack.database_url, temporal, SEASON, data, show_progress=False)
    results = []
    async with httpx.AsyncClient(timeout=20, limits=httpx.Limits(max_connections=100, keepalive_expiry=2.0)) as http:
        db = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=8, command_timeout=10, timeout=5)
        suite = Suite(stack, db, temporal, http, ledger)
        revision = _revision()
        for i, fault in enumerate(faults):
            employees = data.employees[i * per_row : (i + 1) * per_row]
            log(f"row {i + 1}/{len(faults)}: {fault.name} ({len(employees)} cases)")
            row = await suite.run_row(fault, employees, recover_within)
            row.at, row.revision = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", revision
            log(
                f"  acts {row.acts}, lost {row.lost}, doubled {row.doubled}, stalled {row.stalled}, wrong stage "
                f"{row.wrong_stage}, non-poison dead letters {row.non_poison_dead_letters}, recovered in "
                f"{row.recovered_in if row.recovered_in is not None else '-'} s, longest behind "
                f"{row.longest_behind:.0f} s, answers {dict(row.answers)}"
            )
            results.append(row)
            if on_row is not None:
                on_row(row)  # kept as soon as it is known: a long run cut short keeps what it found
        if plant and results:
            planted, _ = await plant_and_check(suite, data.employees[:per_row])
            planted.at, planted.revision = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", revision
            results.append(planted)
        await db.close()
    return results


def _revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+changes" if dirty.strip() else "")
    except OSError:
        return "unknown"


def table(rows: list[RowResult], with_date: bool = False) -> list[str]:
    head = (
        "| fault | cases | acts reconciled | lost | doubled | stalled | wrong stage | non-poison dead letters | "
        "parked as meant | longest behind | OTP p99 to gateway | recovered in | HTTP answers from the fault on | ok |"
    )
    lines = [head + (" when | revision |" if with_date else ""), "|---" * (14 + 2 * with_date) + "|"]
    for r in rows:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(r.answers.items()))
        recovered = f"{r.recovered_in:.0f} s" if r.recovered_in is not None else "**not recovered**"
        p99 = f"{r.sms_p99:.1f} s" if r.sms_p99 is not None else "-"
        ok = "yes" if r.ok else "**NO**"
        fault = r.fault + (f" ({r.readiness})" if r.readiness else "")
        line = (
            f"| {fault} | {r.cases} | {r.acts} | {r.lost} | {r.doubled} | {r.stalled} | {r.wrong_stage} | "
            f"{r.non_poison_dead_letters} | {r.parked_as_meant} | {r.longest_behind:.0f} s | {p99} | {recovered} | "
            f"{answers} | {ok} |"
        )
        lines.append(line + (f" {r.at} | {r.revision} |" if with_date else ""))
    return lines


LATEST = ROOT / "bench" / "results" / "faults-latest.json"


def keep_latest(rows: list[RowResult], path: Path = LATEST) -> Path:
    """One file holding the latest result of every row, with its date and code revision: the full suite outgrows
    one sitting on two cores and runs in parts (`--rows`)."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    for r in rows:
        if not r.fault.startswith("planted"):
            kept[r.fault] = {**asdict(r), "answers": dict(r.answers), "problems": r.problems[:20]}
    path.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n")
    ordered = [RowResult(**{**v, "answers": Counter(v["answers"])}) for k, v in kept.items()]
    order = list(FAULTS)
    ordered.sort(key=lambda r: order.index(r.fault) if r.fault in order else len(order))
    md = path.with_suffix(".md")
    passing = sum(r.ok for r in ordered)
    md.write_text(
        "\n".join(
            [
                "# Fault suite: the latest result of every row",
                "",
                f"{len(ordered)} of {len(FAULTS)} rows run; {passing} pass. Each row's date and code revision are its own "
                "(`seva faults --rows`). What each column means: docs/faults.md.",
                "",
                *table(ordered, with_date=True),
                "",
                *[f"- {r.fault}: {p}" for r in ordered for p in r.problems[:10]],
                "",
            ]
        )
    )
    return md


def run(
    per_row: int = 40,
    names: list[str] | None = None,
    recover_within: float = 300,
    keep: bool = False,
    topology: Topology = PRODUCTION,
    out_dir: Path | None = None,
    plant: bool = False,
    engine: str = "production",
) -> tuple[Path, list[RowResult]]:
    faults = [FAULTS[n] for n in names] if names else list(FAULTS.values())
    signal.signal(signal.SIGTERM, interrupted)  # stop the stack whatever happens
    data_dir = Path(tempfile.mkdtemp(prefix="seva-faults-"))
    stack = LocalStack(
        data_dir,
        FAULT_PORTS,
        season_id=SEASON,
        topology=topology,
        network_faults=any(f.network for f in faults),
        extra_env={
            "SEVA_OTP_MAX_PER_CLIENT_HOUR": "1000000",
            "SEVA_OTP_RESEND_GAP_SECONDS": "0",
            "SEVA_OTP_MAX_PER_MOBILE_HOUR": "1000",
            "SEVA_OTP_MAX_PER_MOBILE_DAY": "1000",
        },
        engine=engine,
    )
    out_dir = out_dir or ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ledger = Ledger(out_dir / f"faults-{now:%Y-%m-%dT%H%M}-ledger.jsonl")
    log(f"starting the {topology.name} stack in {data_dir}")
    stack.start()
    try:
        keep_row = (lambda row: keep_latest([row])) if out_dir == ROOT / "bench" / "results" else None
        rows = asyncio.run(run_suite(stack, per_row, faults, recover_within, ledger, plant, keep_row))
    finally:
        stack.stop()
        if not keep:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)
    acknowledged = sum(1 for x in ledger.lines if x.acknowledged)
    lines = [
        f"# Fault suite {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"Topology: {topology.name} ({topology.kafka_nodes} Kafka brokers, {topology.replicas} replicas of each "
        f"service and of the cases worker, SMS through {'the HTTP gateway' if topology.http_sms_gateway else 'the dev inbox'}). "
        f"Engine: {ENGINE_NAMES[engine]}. "
        f"{per_row} cases a row, {len(faults)} faults, one at a time. The ledger ({ledger.path.name if ledger.path else '-'}) "
        f"holds {len(ledger.lines)} requests, {acknowledged} of them acknowledged.",
        "",
        *table(rows),
        "",
    ]
    for r in rows:
        lines += [f"- {r.fault}: {p}" for p in r.problems[:20]]
    out = out_dir / f"faults-{now:%Y-%m-%dT%H%M}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    return out, rows
