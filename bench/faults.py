"""`make faults`: the promise that no case is lost, doubled or wrongly ended, tried for real.

The production-shaped stack (three Kafka brokers, two replicas of every service, two cases workers) on its
own ports and data folder. For each fault, a batch of employees and officers drive cases from OTP to order
through the APIs; the fault is injected at its moment (a service killed while its bulk act is in flight),
held, healed; then every case is checked against every service's database. The goal for every row: 0 lost,
0 doubled, 0 wrong stage, 0 dead letters that were not poison, no HTTP 500, and everything back on its own."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from temporalio.client import Client

from contract import CaseStatus, Stage, case_workflow_id
from deploy.local.phone import otp_since
from deploy.local.seed import import_employees
from deploy.local.stack import FAULT_PORTS, PRODUCTION, SERVICES, LocalStack, Topology, replica_name
from deploy.local.synthetic import generate
from services.applications.documents import REQUIRED
from services.common.dead_letters import list_dead_letters
from services.common.events import MASTERDATA_TOPIC, SMS_TOPIC, TOPICS, envelope
from services.common.settings import Settings
from services.common.temporal import connect

from .run import interrupted

ROOT = Path(__file__).resolve().parents[1]
SEASON = "faults"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
POISON_KEY = "POISON"
# stages a case reaches only when something went wrong with it (here: only ever because of the fault)
WRONG_STAGES = {
    Stage.LAPSED_UNREGISTERED,
    Stage.LAPSED_NO_APPLICATION,
    Stage.LAPSED_NOT_RESUBMITTED,
    Stage.VERIFICATION_OVERDUE,
    Stage.POST_CREATION_OVERDUE,
    Stage.HOD_APPROVAL_OVERDUE,
    Stage.REJECTED,
    Stage.INELIGIBLE,
}


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


@dataclass
class Fault:
    name: str
    moment: str  # employees (half submitted), ddo, finance, hod
    inject: Callable[[Suite], Awaitable[None]]
    hold: float = 0.0  # seconds between inject and heal
    heal: Callable[[Suite], Awaitable[None]] | None = None
    network: bool = False  # needs Toxiproxy between the services and their parts


@dataclass
class RowResult:
    fault: str
    cases: int
    lost: int = 0
    doubled: int = 0
    wrong_stage: int = 0
    non_poison_dead_letters: int = 0
    recovered_in: float | None = None
    answers: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.doubled
            or self.wrong_stage
            or self.non_poison_dead_letters
            or self.answers.get("500")
            or self.recovered_in is None
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


def _kafka_down(hold: float) -> Fault:
    nodes = [replica_name("kafka", n) for n in (1, 2, 3)]

    async def inject(s: Suite) -> None:
        for n in nodes:
            s.stack.kill(n)

    async def heal(s: Suite) -> None:
        for n in nodes:
            s.stack.restart(n)

    return Fault(f"the whole Kafka cluster down for {hold:.0f} s", "employees", inject, hold, heal)


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


async def _toxiproxy(s: Suite, method: str, path: str, body: dict | None = None) -> None:
    r = await s.http.request(method, s.stack.toxiproxy_api + path, json=body, timeout=10)
    if r.status_code >= 300 and not (method == "DELETE" and r.status_code == 404):
        raise RuntimeError(f"toxiproxy {method} {path}: {r.status_code} {r.text}")


def _network(label: str, hold: float, toxic: dict | None, only: tuple[str, ...] = ()) -> Fault:
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


async def _retry_officer_acts(s: Suite) -> None:
    s.duplicate_officer_acts = True


async def _stop_retrying(s: Suite) -> None:
    s.duplicate_officer_acts = False


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
            0.0,
            None,
        ),
    ]
}
QUICK = [
    "kill -9 cases-worker, restarted after 10 s",
    "one Kafka broker killed (the cluster runs on), back after 20 s",
    "poison messages on every topic a consumer reads",
]


# ---- the people, through the APIs ------------------------------------------------------------------------


class Suite:
    def __init__(self, stack: LocalStack, db: asyncpg.Pool, temporal: Client, http: httpx.AsyncClient):
        self.stack, self.db, self.temporal, self.http = stack, db, temporal, http
        self.replica = {s: itertools.cycle(stack.urls(s)) for s in SERVICES}
        self.answers: list[tuple[float, str]] = []
        self.tokens: dict[str, dict] = {}
        self.duplicate_officer_acts = False
        self._moment: tuple[str, asyncio.Event] | None = None

    async def call(self, method: str, service: str, path: str, deadline: float = 900, **kw) -> httpx.Response:
        """Like a client behind a load balancer: another replica on a refused connection, again after a 503
        (Retry-After, capped) or a timeout. Every answer is counted."""
        give_up = time.monotonic() + deadline
        while True:
            try:
                r = await self.http.request(method, next(self.replica[service]) + path, **kw)
                self.answers.append((time.monotonic(), str(r.status_code)))
                if r.status_code < 500:
                    return r
                wait = min(float(r.headers.get("retry-after", 1)), 2.0)
            except httpx.TransportError as exc:
                self.answers.append((time.monotonic(), type(exc).__name__))
                wait = 0.5
            if time.monotonic() > give_up:
                raise TimeoutError(f"{method} {service}{path}: no answer but errors for {deadline:.0f}s")
            await asyncio.sleep(wait)

    async def officer(self, officer_id: str) -> dict:
        if officer_id not in self.tokens:
            token = await asyncio.to_thread(self.stack.officer_token, officer_id)  # from the identity provider
            self.tokens[officer_id] = {"Authorization": f"Bearer {token}"}
        return self.tokens[officer_id]

    async def reached(self, moment: str) -> None:
        if self._moment and self._moment[0] == moment:
            self._moment[1].set()

    async def _otp(self, mobile: str, after: datetime) -> str | None:
        return await otp_since(self._fetchval, mobile, after, wait=120.0)

    async def _fetchval(self, query: str, *args):
        """The suite's own reads wait out a database outage like everyone else."""
        return await self._read(self.db.fetchval, query, *args)

    async def _fetch(self, query: str, *args) -> list:
        return await self._read(self.db.fetch, query, *args)

    @staticmethod
    async def _read(how, query: str, *args):
        for _ in range(300):
            try:
                return await how(query, *args)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
                await asyncio.sleep(1)
        raise TimeoutError(f"the database did not answer for 5 minutes: {query[:60]}")

    async def employee(self, e, submitted: list[str], half: int) -> None:
        """Register with the OTP, upload documents and identity, submit: each step until it has happened."""
        m, mobile = e.master, e.actual_mobile
        auth = None
        while auth is None:
            asked = datetime.now(UTC) - timedelta(seconds=1)
            r = await self.call("POST", "otp", "/otp/request", json={"mobile": mobile})
            if not r.is_success:
                await asyncio.sleep(1)
                continue
            code = await self._otp(mobile, asked)
            if code is None:
                continue
            r = await self.call("POST", "otp", "/otp/verify", json={"mobile": mobile, "code": code})
            if r.is_success:
                auth = {"Authorization": f"Bearer {r.json()['token']}"}
        for kind in REQUIRED:
            await self._until_ok(
                "PUT",
                "applications",
                f"/applications/documents/{kind}",
                content=PDF,
                headers={**auth, "content-type": "application/pdf"},
            )
        from stdnum import verhoeff

        digits = "4" + f"{int(m['employee_id'][3:]):010d}"
        await self._until_ok(
            "PUT",
            "applications",
            "/applications/identity",
            headers=auth,
            json={"aadhaar_number": digits + verhoeff.calc_check_digit(digits), "pan": "ABCPE1234F"},
        )
        form = {
            "department_code": m["department_code"],
            "district": m["district"],
            "post_code": m["post_code"],
            "ddo_code": m["ddo_code"],
            "date_of_joining": m["date_of_joining"].isoformat(),
        }
        while not await self._fetchval(
            "SELECT 1 FROM applications.application WHERE employee_id = $1", m["employee_id"]
        ):
            await self.call("POST", "applications", "/applications", json=form, headers=auth)
        submitted.append(m["employee_id"])
        if len(submitted) == half:
            await self.reached("employees")

    async def _until_ok(self, method: str, service: str, path: str, **kw) -> None:
        while not (await self.call(method, service, path, **kw)).is_success:
            await asyncio.sleep(1)

    async def officers(self, employee_ids: list[str], done: asyncio.Event) -> None:
        """DDOs verify, Finance creates posts, HoDs approve, each desk cleared in one bulk act, until done."""

        async def desk(officer_id: str, service: str, pending_path: str, act_path: str, moment: str) -> None:
            h = await self.officer(officer_id)
            r = await self.call("GET", service, pending_path, params={"limit": 500}, headers=h)
            pending = [p["application_no"] for p in r.json()] if r.is_success else []
            if pending:
                await self.reached(moment)
                for _ in range(2 if self.duplicate_officer_acts else 1):
                    await self.call("POST", service, act_path, headers=h, json={"application_nos": pending})

        while not done.is_set():
            try:
                ddos = [
                    r["ddo_code"]
                    for r in await self.db.fetch(
                        "SELECT DISTINCT ddo_code FROM verification.task WHERE status = 'pending' AND employee_id = ANY($1)",
                        employee_ids,
                    )
                ]
                for d in ddos:
                    await desk(f"OFF-{d}", "verification", "/verification/queue", "/verification/decisions/bulk", "ddo")
                await desk("FIN-1", "orders", "/posts/awaiting", "/posts", "finance")
                departments = [
                    r["department"]
                    for r in await self.db.fetch(
                        "SELECT DISTINCT r.department FROM orders.case_request r JOIN orders.supernumerary_post p "
                        "USING (application_no) WHERE r.approved_at IS NULL AND r.employee_id = ANY($1)",
                        employee_ids,
                    )
                ]
                for d in departments:
                    await desk(f"HOD-{d}", "orders", "/orders/awaiting-approval", "/orders/approvals", "hod")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, TimeoutError):
                pass  # the database or a service is down: the officer tries again shortly
            await asyncio.sleep(0.5)

    # ---- one row -----------------------------------------------------------------------------------

    async def run_row(self, fault: Fault, employees: list, recover_within: float) -> RowResult:
        ids = [e.master["employee_id"] for e in employees]
        row = RowResult(fault.name, len(ids))
        started = time.monotonic()
        moment = asyncio.Event()
        self._moment = (fault.moment, moment)
        done = asyncio.Event()
        submitted: list[str] = []
        officers = asyncio.create_task(self.officers(ids, done))
        journeys = asyncio.gather(*(self.employee(e, submitted, max(1, len(ids) // 2)) for e in employees))

        async def fault_at_its_moment() -> tuple[float, float]:
            await moment.wait()
            await asyncio.sleep(0.05)  # the act that reached the moment is in flight
            log(f"  inject: {fault.name}")
            injected = time.monotonic()
            try:
                await fault.inject(self)
                await asyncio.sleep(fault.hold)
            finally:  # whatever happened, the part is given back
                if fault.heal:
                    await fault.heal(self)
            log("  healed")
            return injected, time.monotonic()

        faulting = asyncio.create_task(fault_at_its_moment())
        try:
            await asyncio.wait_for(journeys, timeout=recover_within)
            injected, healed = await asyncio.wait_for(faulting, timeout=recover_within)
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
            if fault.name.startswith("every officer act"):
                await _stop_retrying(self)
        row.answers = Counter(a for t, a in self.answers if injected - 1 <= t)
        self.answers.clear()
        await self.check(row, ids, started)
        return row

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

    async def check(self, row: RowResult, ids: list[str], since: float) -> None:
        """Every case against every service's database."""
        statuses = await asyncio.gather(*(self._case(i) for i in ids))
        for employee_id, status in zip(ids, statuses):
            if status is None or status.stage != Stage.ORDER_ISSUED:
                row.lost += 1
                row.problems.append(f"{employee_id}: stuck at {status.stage if status else 'no answer'}")
            elif {h.stage for h in status.history} & WRONG_STAGES:
                row.wrong_stage += 1
                row.problems.append(
                    f"{employee_id}: passed through "
                    + ", ".join(sorted({h.stage for h in status.history} & WRONG_STAGES))
                )
        doubles = {
            "posts": "SELECT employee_id FROM orders.supernumerary_post WHERE employee_id = ANY($1) "
            "GROUP BY employee_id HAVING count(*) > 1",
            "orders": "SELECT employee_id FROM orders.service_security_order WHERE employee_id = ANY($1) "
            "GROUP BY employee_id HAVING count(*) > 1",
            "SMS of one kind": "SELECT employee_id FROM otp.sms_delivery WHERE employee_id = ANY($1) AND template <> 'otp' "
            "GROUP BY employee_id, template HAVING count(*) > 1",
            "DDO decisions": "SELECT t.employee_id FROM verification.decision d JOIN verification.task t "
            "USING (application_no) WHERE t.employee_id = ANY($1) GROUP BY t.employee_id, d.round "
            "HAVING count(*) > 1",
        }
        for what, query in doubles.items():
            for r in await self._fetch(query, ids):
                row.doubled += 1
                row.problems.append(f"{r['employee_id']}: two {what}")
        for schema in ("verification", "orders"):
            for r in await self._fetch(
                f"SELECT body::jsonb ->> 'action' AS action, body::jsonb ->> 'subject' AS subject "
                f"FROM {schema}.audit_log GROUP BY 1, 2 HAVING count(*) > 1"
            ):
                row.doubled += 1
                row.problems.append(f"audit {schema}: {r['action']} on {r['subject']} recorded twice")
        letters = await list_dead_letters(self.stack.kafka_bootstrap)
        after = datetime.now(UTC) - timedelta(seconds=time.monotonic() - since)
        for entry in letters:
            at = datetime.fromisoformat(entry.record.get("dead_lettered_at", "1970-01-01T00:00:00+00:00"))
            if at >= after and entry.record.get("key") != POISON_KEY:
                row.non_poison_dead_letters += 1
                row.problems.append(f"dead letter {entry.ref}: {entry.reason} {entry.record.get('error', '')[:80]}")


# ---- the run --------------------------------------------------------------------------------------------


async def run_suite(stack: LocalStack, cases: int, faults: list[Fault], recover_within: float) -> list[RowResult]:
    temporal = await connect(Settings(env="dev", temporal_address=stack.temporal_address))
    data = generate(cases, seed=31, fault_share=0.0, first_id=700_001)
    log(f"importing {cases} employees and starting their cases")
    await import_employees(stack.database_url, temporal, SEASON, data, show_progress=False)
    per_row = max(1, cases // len(faults))
    results = []
    async with httpx.AsyncClient(timeout=20, limits=httpx.Limits(max_connections=100, keepalive_expiry=2.0)) as http:
        db = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=8, command_timeout=10, timeout=5)
        suite = Suite(stack, db, temporal, http)
        for i, fault in enumerate(faults):
            employees = data.employees[i * per_row : (i + 1) * per_row]
            log(f"row {i + 1}/{len(faults)}: {fault.name} ({len(employees)} cases)")
            row = await suite.run_row(fault, employees, recover_within)
            log(
                f"  lost {row.lost}, doubled {row.doubled}, wrong stage {row.wrong_stage}, non-poison dead letters "
                f"{row.non_poison_dead_letters}, recovered in {row.recovered_in if row.recovered_in is not None else '-'}"
                f" s, answers {dict(row.answers)}"
            )
            results.append(row)
        await db.close()
    return results


def table(rows: list[RowResult]) -> list[str]:
    lines = [
        "| fault | cases | lost | doubled | wrong stage | non-poison dead letters | recovered in | "
        "HTTP answers from the fault on | ok |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(r.answers.items()))
        recovered = f"{r.recovered_in:.0f} s" if r.recovered_in is not None else "**not recovered**"
        lines.append(
            f"| {r.fault} | {r.cases} | {r.lost} | {r.doubled} | {r.wrong_stage} | "
            f"{r.non_poison_dead_letters} | {recovered} | {answers} | {'yes' if r.ok else '**NO**'} |"
        )
    return lines


def run(
    cases: int = 300,
    names: list[str] | None = None,
    recover_within: float = 300,
    keep: bool = False,
    topology: Topology = PRODUCTION,
    out_dir: Path | None = None,
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
    )
    log(f"starting the {topology.name} stack in {data_dir}")
    stack.start()
    try:
        rows = asyncio.run(run_suite(stack, cases, faults, recover_within))
    finally:
        stack.stop()
        if not keep:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)
    now = datetime.now(UTC)
    lines = [
        f"# Fault suite {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"Topology: {topology.name} ({topology.kafka_nodes} Kafka brokers, {topology.replicas} replicas of each "
        f"service and of the cases worker). {cases} cases, {len(faults)} faults, one at a time.",
        "",
        *table(rows),
        "",
    ]
    for r in rows:
        lines += [f"- {r.fault}: {p}" for p in r.problems[:20]]
    out_dir = out_dir or ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"faults-{now:%Y-%m-%dT%H%M}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    return out, rows
