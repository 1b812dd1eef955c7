"""`seva`: one command for the whole system (the local stack, master data, a case's story)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer

if TYPE_CHECKING:
    from services.common.settings import AuditSettings

app = typer.Typer(help="Seva Suraksha: Haryana contractual employees' job-security process.", no_args_is_help=True)


@app.command()
def run(
    size: int = typer.Option(200, help="employees of synthetic master data to load into a fresh stack"),
    seed: int = typer.Option(2025, help="random seed of the synthetic data"),
) -> None:
    """Start the whole local stack, load synthetic data once, and keep running until Ctrl-C."""
    from deploy.local.seed import seed as seed_stack
    from deploy.local.stack import DEV_PORTS, LocalStack
    from services.common.settings import get_settings
    from services.common.temporal import connect

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    stack = LocalStack(
        Path(settings.data_dir),
        DEV_PORTS,
        database_url=os.environ.get("DATABASE_URL"),
        season_id=settings.season_id,
        signed_in_ui=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo("starting PostgreSQL, Kafka, Temporal, the four services and the cases worker ...")
    stack.start()
    try:

        async def _seed() -> Any:
            os.environ.update({k: v for k, v in stack.environment().items() if k.startswith("SEVA_")})
            get_settings.cache_clear()
            return await seed_stack(stack.database_url, await connect(get_settings()), stack.season_id, size, seed)

        data, started = asyncio.run(_seed())
        if data is not None:
            typer.echo(f"loaded {len(data.employees)} synthetic employees and started {started} cases")
        typer.echo("\nSeva Suraksha is running:")
        typer.echo(f"  portal        {stack.portal_url}   (employees and officers, in Hindi and English)")
        for name in ("otp", "applications", "verification", "orders"):
            typer.echo(f"  {name:<13} {stack.url(name)}/docs")
        typer.echo(f"  Temporal UI   http://127.0.0.1:{stack.ports.temporal_ui}  (sign in as OPS-1 with role ops)")
        typer.echo(f"  codec (HTTPS) {stack.codec_https_url}/codec  (open once, accept the local certificate)")
        typer.echo(f"  officers' sign-in (OpenID provider) {stack.oidc_issuer}")
        typer.echo(
            "  metrics       each service's and the portal's /metrics, the cases worker's "
            f"http://127.0.0.1:{stack.ports.cases_health}/metrics (Prometheus text)"
        )
        typer.echo(f"  Temporal metrics http://127.0.0.1:{stack.ports.temporal_metrics}/metrics")
        typer.echo(
            f"  readiness     each service's /readyz; the cases worker's "
            f"http://127.0.0.1:{stack.ports.cases_health}/readyz"
        )
        typer.echo(f"  logs          {stack.logs}\nPress Ctrl-C to stop.")
        while not stop.is_set():
            for name, proc in stack.procs:
                if proc.poll() is not None:
                    typer.echo(
                        f"{name} exited with code {proc.returncode}; see {stack.logs / (name + '.log')}", err=True
                    )
                    stop.set()
            stop.wait(1.0)
    finally:
        typer.echo("stopping ...")
        stack.stop()


@app.command()
def generate(
    size: int = typer.Option(1000, min=100, max=120_000),
    seed: int = 2025,
    fault_share: float = typer.Option(0.1, min=0.0, max=1.0),
    out: Path = typer.Option(Path("var/synthetic/employees.jsonl")),
) -> None:
    """Write synthetic master data (reproducible for a seed) as JSON lines."""
    from tqdm import tqdm

    from deploy.local.synthetic import generate as gen

    with tqdm(total=size, desc="generating", unit="employee") as bar:
        data = gen(size, seed, fault_share, progress=bar.update)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as f:
        for e in data.employees:
            f.write(
                json.dumps(
                    {"master": e.master, "ppp": e.ppp, "actual_mobile": e.actual_mobile, "fault": e.fault}, default=str
                )
                + "\n"
            )
    typer.echo(f"wrote {size} employees to {out}")


@app.command()
def bench(
    cases: int = typer.Option(2000, min=10, max=120_000, help="cases taken through the whole season"),
    extension_cases: int = typer.Option(2000, min=10, max=120_000, help="open cases for the extension fan-out"),
    api_seconds: float = typer.Option(10.0, min=1.0, help="seconds of load per API"),
    concurrency: int = typer.Option(32, min=1, max=200, help="concurrent API clients"),
    lead_seconds: int = typer.Option(20, min=5, help="the old deadline is this long after the extension call"),
    keep: bool = typer.Option(False, help="keep the bench stack's data folder"),
    out_dir: Path = typer.Option(None, help="where the results go (default bench/results)"),
    phases: str = typer.Option("season,extension,api,portal,surge", help="which phases to run, comma-separated"),
    start_rate: float = typer.Option(
        20.0, min=1.0, help="cases/s `seva import` is assumed to reach when the extension phase sets its old deadline"
    ),
    engine: str = typer.Option(
        "production", help="production (`make temporal-server`, on PostgreSQL) or dev (Temporal's dev server, SQLite)"
    ),
    surge_users: str = typer.Option("4,8,16,32,64,128", help="the surge's steps: employees at once in each"),
    surge_step_seconds: int = typer.Option(60, min=5, help="how long each step of the surge lasts"),
) -> None:
    """Measure on the real local stack (its own ports and data), each figure beside a baseline from the same run."""
    from bench.run import PHASES
    from bench.run import run as run_bench

    if engine not in ("dev", "production"):
        raise typer.BadParameter("dev or production", param_hint="--engine")
    chosen = tuple(p.strip() for p in phases.split(",") if p.strip())
    if not chosen or set(chosen) - set(PHASES):
        raise typer.BadParameter(f"phases are {', '.join(PHASES)}", param_hint="--phases")
    try:
        steps = tuple(int(u) for u in surge_users.split(","))
    except ValueError:
        raise typer.BadParameter("numbers, comma-separated: 4,8,16", param_hint="--surge-users") from None
    if not steps or min(steps) < 1:
        raise typer.BadParameter("at least one step of at least 1", param_hint="--surge-users")
    logging.basicConfig(level=logging.WARNING)
    out, complete = run_bench(
        cases,
        extension_cases,
        api_seconds,
        concurrency,
        lead_seconds,
        keep,
        out_dir,
        chosen,
        start_rate,
        engine,
        (steps, surge_step_seconds),
    )
    typer.echo(f"\nresults written to {out}")
    if not complete:
        raise typer.Exit(1)


@app.command()
def faults(
    cases: int = typer.Option(40, min=3, max=1_000, help="cases driven in each row"),
    fault: list[str] = typer.Option(None, help="run only these faults (by name; repeat); `--list` names them"),
    rows: str = typer.Option(None, help="run only these rows, by number as `--list` shows them: e.g. 1-6,17"),
    quick: bool = typer.Option(False, help="the rows `make test` runs"),
    plant: bool = typer.Option(False, help="after the rows, plant a lost decision and a doubled SMS and check again"),
    list_: bool = typer.Option(False, "--list", help="name every fault and stop"),
    topology: str = typer.Option("production", help="production (3 brokers, 2 replicas) or single"),
    recover_within: float = typer.Option(300, help="seconds a row may take to recover after the fault"),
    keep: bool = typer.Option(False, help="keep the stack's data folder"),
    out_dir: Path = typer.Option(None, help="where the results go (default bench/results)"),
    engine: str = typer.Option(
        "production", help="production (`make temporal-server`, on PostgreSQL) or dev (Temporal's dev server, SQLite)"
    ),
) -> None:
    """Inject one fault at a time into the production-shaped stack while people drive cases, each act written to
    a ledger, then reconcile the ledger with every store: 0 lost, 0 doubled, 0 stalled, 0 wrong stage, 0 dead
    letters not meant. The latest result of every row is kept in bench/results/faults-latest.md."""
    from bench.faults import FAULTS, QUICK
    from bench.faults import run as run_faults
    from deploy.local.stack import TOPOLOGIES

    if list_:
        for number, name in enumerate(FAULTS, 1):
            typer.echo(f"{number:2d}  {name}")
        return
    names = QUICK if quick else fault
    if rows:
        every = list(FAULTS)
        chosen: list[str] = []
        for part in rows.split(","):
            first, _, last = part.strip().partition("-")
            if not first.isdigit() or (last and not last.isdigit()):
                raise typer.BadParameter(f"{part!r} is not a row number or range", param_hint="--rows")
            for n in range(int(first), int(last or first) + 1):
                if not 1 <= n <= len(every):
                    raise typer.BadParameter(f"there is no row {n} (1-{len(every)})", param_hint="--rows")
                chosen.append(every[n - 1])
        names = chosen
    if engine not in ("dev", "production"):
        raise typer.BadParameter("dev or production", param_hint="--engine")
    if names and set(names) - set(FAULTS):
        raise typer.BadParameter("unknown fault: " + ", ".join(set(names) - set(FAULTS)), param_hint="--fault")
    logging.basicConfig(level=logging.WARNING)
    out, results = run_faults(cases, names, recover_within, keep, TOPOLOGIES[topology], out_dir, plant, engine)
    typer.echo(f"\nresults written to {out}")
    if not all(r.ok for r in results if not r.fault.startswith("planted")):
        raise typer.Exit(1)


@app.command("import")
def import_(
    size: int = typer.Option(1000, min=1, max=120_000, help="employees of synthetic master data"),
    seed: int = typer.Option(2025, help="random seed (the same seed gives the same employees)"),
    fault_share: float = typer.Option(0.1, min=0.0, max=1.0),
    concurrency: int = typer.Option(128, min=1, max=1000, help="cases started at once"),
    records: list[str] = typer.Option(
        None,
        "--records",
        help="the state's records instead of synthetic ones: OWNER=file.csv, one per data owner "
        "(HKRN, TREASURY, HARTRON); the format is in ops/records_import.py and docs/operations.md",
    ),
    restart_failed: bool = typer.Option(
        False, help="with --records: start again the cases of these employees whose runs failed or were terminated"
    ),
    reason: str = typer.Option(None, help="with --restart-failed: what was wrong and how it was cleared (logged)"),
) -> None:
    """Load master data for up to 120,000 employees and start their cases. Interrupt it and run it again:
    nothing is loaded or started twice. With --records, every row is checked first and nothing is loaded if
    any is wrong."""
    if restart_failed and (not records or not reason or len(reason.strip()) < 10):
        raise typer.BadParameter("give --records and a --reason (what failed and how it was cleared)")
    if records:
        if restart_failed:
            logging.getLogger("seva.import").warning("restarting failed cases of the files given: %s", reason)
            typer.echo(f"restarting failed cases: {reason}")
        _import_records(records, restart_failed)
        return
    from tqdm import tqdm

    from deploy.local.seed import import_employees
    from deploy.local.synthetic import generate as gen
    from services.common.settings import get_settings
    from services.common.temporal import connect

    settings = get_settings()
    with tqdm(total=size, desc="generating", unit="employee") as bar:
        data = gen(size, seed, fault_share, progress=bar.update)

    async def _run() -> tuple[int, int]:
        loaded, started = await import_employees(
            settings.database_url, await connect(settings), settings.season_id, data, concurrency=concurrency
        )
        return int(loaded), int(started)

    loaded, started = asyncio.run(_run())
    typer.echo(f"{loaded} new master records, {started} cases started ({size - started} were already there)")


def _import_records(records: list[str], restart_failed: bool = False) -> None:
    from ops.records_import import load
    from services.common.settings import get_settings
    from services.common.temporal import connect

    files: dict[str, Path] = {}
    for item in records:
        owner, _, path = item.partition("=")
        if not path or not Path(path).is_file():
            raise typer.BadParameter(f"{item!r}: give OWNER=path of an existing CSV file", param_hint="--records")
        files[owner.strip().upper()] = Path(path)
    settings = get_settings()

    async def _run() -> tuple[int, int, list[Any]]:
        return await load(settings.database_url, await connect(settings), settings.season_id, files, restart_failed)

    loaded, started, errors = asyncio.run(_run())
    if errors:
        for e in errors[:50]:
            typer.echo(str(e), err=True)
        report = Path("var/import-errors.csv")
        report.parent.mkdir(parents=True, exist_ok=True)
        import csv

        with report.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["file", "row", "column", "message"])
            out.writerows([e.file, e.row, e.column, e.message] for e in errors)
        typer.echo(
            f"{len(errors)} problems (all in {report}); nothing was loaded. Correct the files and run again.", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"{loaded} new master records, {started} cases started")


@app.command()
def simulate(
    employees: int = typer.Option(2000, min=10, max=120_000, help="employees of the simulated state"),
    seed: int = typer.Option(2026, help="the same seed plays the same season"),
    day_seconds: float = typer.Option(
        20.0, min=1.0, help="seconds that stand for a day of the season (the real calendar's proportions are kept)"
    ),
    out: Path = typer.Option(Path("bench/results"), help="where the report and its chart go"),
    preseason_fixes: float = typer.Option(
        0.0, min=0.0, max=1.0, help="share of the pre-season audit's mobile findings mended before the portal opens"
    ),
    answered: float = typer.Option(
        0.8, min=0.0, max=1.0, help="share of employees who answer the pre-season SMS about their own number"
    ),
) -> None:
    """Play a whole season on a local stack of its own (the production topology) with the calendar compressed to
    minutes on its real proportions and every OTP limit in force: employees who arrive, fail, ask "Why no OTP?"
    and follow the remedy; officers with delays, some who never act; an extension half-way. Writes a report of
    who reached "submitted" in time (judged on the system's answers against the published calendar) and who did
    not, and why; every case short of an order; the load the stack carried; the audit's figures over answer rates."""
    from bench.simulate import simulate as play

    report = play(employees, seed, out, day_seconds, preseason_fixes, answered)
    typer.echo(report.read_text())
    typer.echo(f"written to {report}")


@app.command()
def case(
    employee_id: str, season: str = typer.Option(None, help="the season of the case (default: the one in force)")
) -> None:
    """Print one case's stage, history and pending deadline."""
    from contract import IST, CaseStatus, case_workflow_id
    from services.common.settings import get_settings
    from services.common.temporal import connect

    async def _status() -> CaseStatus:
        client = await connect(get_settings())
        status: CaseStatus = await client.get_workflow_handle(workflow_id).query("status", result_type=CaseStatus)
        return status

    workflow_id = case_workflow_id(employee_id, season or get_settings().season_id)
    status = asyncio.run(_status())
    typer.echo(f"{workflow_id}: {status.stage}")
    if status.needs_attention:
        typer.echo(f"  needs attention: {status.needs_attention} (mend the cause, then `seva retry {employee_id}`)")
    if status.next_step and status.next_deadline is not None:
        typer.echo(f"  next deadline: {status.next_step} at {status.next_deadline.astimezone(IST):%d %b %Y %H:%M} IST")
    for h in status.history:
        typer.echo(f"  {h.at.astimezone(IST):%Y-%m-%d %H:%M}  {h.stage:<28} {h.note}")
    for m in status.missed_deadlines:
        typer.echo(f"  MISSED {m.step} by {m.officer_role} {m.officer_ref} (due {m.deadline.astimezone(IST):%d %b %Y})")


@app.command()
def retry(
    employee_ids: list[str] = typer.Argument(..., help="cases in needs_attention whose cause is mended"),
    season: str = typer.Option(None, help="the season of the cases (default: the one in force)"),
) -> None:
    """Try the failed step of each case again now (ops find them with CaseStage = 'needs_attention')."""
    from contract import case_workflow_id
    from services.common.settings import get_settings
    from services.common.temporal import connect

    async def _signal() -> None:
        settings = get_settings()
        client = await connect(settings)
        for employee_id in employee_ids:
            workflow_id = case_workflow_id(employee_id, season or settings.season_id)
            await client.get_workflow_handle(workflow_id).signal("retry_step")
            typer.echo(f"{workflow_id}: asked to retry its failed step")

    asyncio.run(_signal())


notify_app = typer.Typer(help="Telling officers of their work.")
app.add_typer(notify_app, name="notify")


@notify_app.command("pending-work")
def notify_pending_work() -> None:
    """Tell every desk with verifications waiting (DDO, or HoD / Secretary once escalated) how many, how many
    overdue and the earliest due date, by SMS and e-mail, once a day however often it runs. Run daily
    (deploy/production/k8s/31-pending-work.yaml)."""
    from datetime import UTC, datetime

    from services.common.db import create_pool
    from services.common.settings import get_settings
    from services.verification.notify import pending_digest

    async def _run() -> int:
        pool = await create_pool(get_settings().database_url)
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await pending_digest(conn, datetime.now(UTC))
        finally:
            await pool.close()

    typer.echo(f"{asyncio.run(_run())} desks told of their pending work")


calendar_app = typer.Typer(help="The season's deadline calendar.")
app.add_typer(calendar_app, name="calendar")


def _admin_token(issuer: str, token: str | None) -> str:
    """SEVA_ADMIN_TOKEN in production (from the state's identity provider); on the local stack, the seeded
    administrator's token from the local identity provider."""
    import httpx

    from deploy.local.oidc import officer_token

    if token:
        return token
    try:
        return str(officer_token(issuer, "ADMIN-HR"))
    except httpx.HTTPError:
        raise typer.BadParameter(f"set SEVA_ADMIN_TOKEN (no local identity provider answers at {issuer})") from None


@calendar_app.command("extend")
def calendar_extend(
    step: str = typer.Option(..., help="registration_close, ddo_verification, post_creation or order_issue"),
    to: str = typer.Option(..., help="the new deadline, e.g. 2026-02-20T23:59:59+05:30"),
    reason: str = typer.Option(..., help="why (kept with the new version)"),
    season: str = typer.Option(None, help="defaults to the stack's season"),
    api: str = typer.Option("http://127.0.0.1:8002", help="the applications service"),
    issuer: str = typer.Option("http://127.0.0.1:8027/seva", help="the local identity provider"),
    token: str = typer.Option(None, envvar="SEVA_ADMIN_TOKEN"),
) -> None:
    """Move one deadline; every open case runs under the new calendar without a redeploy."""
    import httpx

    r = httpx.post(
        f"{api}/calendar/changes",
        params={"season_id": season} if season else None,
        timeout=30,
        json={"step": step, "new_deadline": to, "reason": reason},
        headers={"Authorization": f"Bearer {_admin_token(issuer, token)}"},
    )
    body = r.json()
    if r.status_code != 201:
        typer.echo(f"refused ({body.get('code')}): {body.get('message')}", err=True)
        raise typer.Exit(1)
    typer.echo(f"season {body['season_id']} calendar version {body['version']}: {step} is now {body[step]}")


@calendar_app.command("show")
def calendar_show(api: str = typer.Option("http://127.0.0.1:8002"), season: str = typer.Option(None)) -> None:
    """Every version of the calendar: who changed what, when and why."""
    import httpx

    for v in httpx.get(f"{api}/calendar/versions", params={"season_id": season} if season else None, timeout=30).json():
        typer.echo(
            f"v{v['version']}  close {v['registration_close']}  ddo {v['ddo_verification']}  post "
            f"{v['post_creation']}  order {v['order_issue']}  by {v['changed_by']}: {v['reason']}"
        )


audit_app = typer.Typer(help="The officers' audit log.")
app.add_typer(audit_app, name="audit")


def _audit_settings() -> AuditSettings:
    from services.common.settings import AuditSettings, get_settings, use_settings

    use_settings(AuditSettings)
    return cast(AuditSettings, get_settings())


@audit_app.command("master-data")
def audit_master_data(
    database_url: str = typer.Option(None, help="defaults to SEVA_DATABASE_URL"),
    season: str = typer.Option(None, help="the season whose last deadline the age check uses (SEVA_SEASON_ID)"),
    out: Path = typer.Option(Path("var/audit/master-data"), help="where the summary and the lists go"),
) -> None:
    """The pre-season audit: every master record that would keep its employee from an OTP or a clean
    application, with the cause, who must act and the remedy; per data owner, district and DDO."""
    from ops.preseason_audit import run, write_report
    from services.common.settings import get_settings

    settings = get_settings()
    url = database_url or settings.database_url

    async def _count() -> int:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM otp.employee_master"))
        finally:
            await conn.close()

    found = asyncio.run(run(url, season or settings.season_id))
    summary = write_report(found, asyncio.run(_count()), out)
    typer.echo(summary.read_text())
    typer.echo(f"written to {out}")


@audit_app.command("confirm-mobiles")
def audit_confirm_mobiles(
    portal_url: str = typer.Option(
        None, help="the portal's public address the SMS links to (SEVA_PORTAL_PUBLIC_URL; required outside dev)"
    ),
    data_owner: str = typer.Option(None, help="only this data owner's records (HKRN, TREASURY, HARTRON)"),
    ddo: str = typer.Option(None, help="only this DDO's employees (a pilot, or a DDO's own round)"),
    remind: bool = typer.Option(False, "--remind", help="send the question again to numbers that have not answered"),
    after_hours: float = typer.Option(72.0, help="with --remind: only questions unanswered this long since last sent"),
    database_url: str = typer.Option(None, help="defaults to SEVA_DATABASE_URL"),
) -> None:
    """Before the season opens, ask every employee on an active record by SMS whether the number on it is theirs
    (a one-tap page on the portal). `seva audit master-data` then flags "not mine", and no answer where the
    Family ID cannot vouch for the number, and no longer flags a confirmed number the registry disagrees with.
    Re-run after corrections: only records not yet asked about their current number are asked. With --remind, the
    numbers that have not answered get the same question again (once per run, at most every --after-hours)."""
    import os

    from ops.preseason_audit import ask_whose_number
    from services.common.settings import ConfigurationError, get_settings

    settings = get_settings()
    url = database_url or settings.database_url
    portal = portal_url or os.environ.get("SEVA_PORTAL_PUBLIC_URL")
    if not portal:
        if settings.env != "dev":
            raise ConfigurationError("--portal-url (or SEVA_PORTAL_PUBLIC_URL) must be set to send the questions")
        from deploy.local.stack import DEV_PORTS, portal_port

        portal = f"http://127.0.0.1:{portal_port(DEV_PORTS)}"

    sent = asyncio.run(ask_whose_number(url, portal, data_owner, ddo, after_hours if remind else None))
    if remind:
        typer.echo(f"{sent:,} employees reminded: the number on their record has not been answered for")
    else:
        typer.echo(f"{sent:,} employees asked by SMS whether the number on their record is theirs")


@audit_app.command("publish")
def audit_publish(
    database_url: str = typer.Option(None, help="defaults to SEVA_DATABASE_URL"),
    out: Path = typer.Option(None, help="the folder for the signed file (default SEVA_AUDIT_HEADS_DIR)"),
    kafka: str = typer.Option(None, help="defaults to SEVA_KAFKA_BOOTSTRAP; --no-kafka to skip"),
    to_kafka: bool = typer.Option(True, "--kafka-topic/--no-kafka", help="also send it to audit.heads"),
) -> None:
    """Sign every audit chain's head and publish it outside the database: a file and the audit.heads topic.
    Run daily (deploy/production/k8s/30-audit-heads.yaml); `seva audit verify` checks against the last one."""
    from datetime import datetime

    from contract import AUDIT_HEADS_TOPIC
    from services.common.audit import heads, sign_heads
    from services.common.sessions import signing_key
    from services.common.settings import ConfigurationError

    settings = _audit_settings()
    if not settings.audit_signing_key:
        raise ConfigurationError("SEVA_AUDIT_SIGNING_KEY must be set to publish the audit heads")

    async def _publish() -> tuple[Path, dict[str, Any]]:
        import asyncpg

        conn = await asyncpg.connect(database_url or settings.database_url)
        try:
            found = await heads(conn)
        finally:
            await conn.close()
        now = datetime.now(UTC)
        token = sign_heads(signing_key(settings.audit_signing_key), found, now)
        folder = out or settings.audit_heads_dir
        assert folder is not None  # AuditSettings puts it under the data folder when unset
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"heads-{now:%Y%m%dT%H%M%S}.jws"
        path.write_text(token + "\n")
        if to_kafka:
            from aiokafka import AIOKafkaProducer

            producer = AIOKafkaProducer(bootstrap_servers=kafka or settings.kafka_bootstrap, acks="all")
            await producer.start()
            try:
                await producer.send_and_wait(AUDIT_HEADS_TOPIC, token.encode(), key=b"heads")
            finally:
                await producer.stop()
        return path, found

    path, found = asyncio.run(_publish())
    for schema, head in found.items():
        typer.echo(f"{schema:<13} head {head.seq} {head.hash[:16]}...")
    typer.echo(f"signed and written to {path}")


def _last_published(folder: Path) -> Path | None:
    files = sorted(folder.glob("heads-*.jws")) if folder.exists() else []
    return files[-1] if files else None


@audit_app.command("verify")
def audit_verify(
    database_url: str = typer.Option(None, help="defaults to SEVA_DATABASE_URL"),
    heads_file: Path | None = typer.Option(
        None, "--heads", help="a published heads file (default: the last one in SEVA_AUDIT_HEADS_DIR)"
    ),
) -> None:
    """Check the hash chain of every service's audit log against the last published heads; exit 1 if any
    entry was changed or removed, a log was rewritten since, or a log is missing or empty."""
    import jwt

    from services.common.audit import SCHEMAS, read_heads, verify
    from services.common.sessions import public_key

    settings = _audit_settings()
    assert settings.audit_heads_dir is not None  # AuditSettings puts it under the data folder when unset
    heads_file = heads_file or _last_published(settings.audit_heads_dir)
    published: dict[str, Any] = {}
    at = None
    if heads_file is not None:
        try:
            at, published = read_heads(public_key(settings.audit_public_key), heads_file.read_text().strip())
        except jwt.PyJWTError as exc:
            typer.echo(f"{heads_file}: not a genuine publication of the audit heads ({exc})")
            raise typer.Exit(1) from exc
        typer.echo(f"checked against the heads published {at:%d %b %Y %H:%M} UTC ({heads_file.name})")
    else:
        typer.echo("no published heads found: the chains are checked, but a wholesale rewrite cannot be seen")

    async def _check() -> list[Any]:
        import asyncpg

        conn = await asyncpg.connect(database_url or settings.database_url)
        try:
            return [await verify(conn, schema, published.get(schema)) for schema in SCHEMAS]
        finally:
            await conn.close()

    failed = False
    for check in asyncio.run(_check()):
        if check.ok:
            typer.echo(f"{check.schema:<13} ok ({check.entries} entries)")
        elif check.state == "empty":  # early in a season; a log emptied after a publication is "rewritten"
            typer.echo(f"{check.schema:<13} EMPTY: {check.problem}")
        elif check.state == "missing":
            failed = True
            typer.echo(f"{check.schema:<13} MISSING: {check.problem}")
        else:
            failed = True
            typer.echo(f"{check.schema:<13} {check.state.upper()} at entry {check.broken_at}: {check.problem}")
    raise typer.Exit(1 if failed else 0)


dlq_app = typer.Typer(help="The dead-letter topics: messages that could never be handled as they stood.")
app.add_typer(dlq_app, name="dlq")


def _kafka(kafka: str | None) -> str:
    from services.common.settings import get_settings

    return kafka or get_settings().kafka_bootstrap


@dlq_app.command("list")
def dlq_list(
    consumer: str = typer.Option(None, help="one consumer group, e.g. cases.signaller"),
    reason: str = typer.Option(None, help="one reason, e.g. refused_by_handler"),
    kafka: str = typer.Option(None, help="defaults to SEVA_KAFKA_BOOTSTRAP"),
) -> None:
    """Every dead letter (ref, when, consumer, reason, where it came from, event type, error), then counts."""
    from collections import Counter

    from services.common.dead_letters import list_dead_letters

    entries = asyncio.run(list_dead_letters(_kafka(kafka), consumer, reason))
    for entry in entries:
        typer.echo(entry.summary())
    counts = Counter((e.record.get("consumer"), e.reason) for e in entries)
    typer.echo(f"{len(entries)} dead letter(s)" + "".join(f"\n  {c}  {r}: {n}" for (c, r), n in sorted(counts.items())))


@dlq_app.command("show")
def dlq_show(
    ref: str = typer.Argument(..., help="<dead-letter topic>:<partition>:<offset>, as `list` prints"),
    kafka: str = typer.Option(None),
) -> None:
    """One dead letter in full, with the original message as text."""
    import base64

    from services.common.dead_letters import list_dead_letters

    entry = next((e for e in asyncio.run(list_dead_letters(_kafka(kafka))) if e.ref == ref), None)
    if entry is None:
        typer.echo(f"no dead letter {ref}", err=True)
        raise typer.Exit(1)
    record = dict(entry.record)
    record["value"] = base64.b64decode(record.pop("value_b64", "")).decode(errors="replace")
    typer.echo(json.dumps(record, indent=2, ensure_ascii=False))


@dlq_app.command("replay")
def dlq_replay(
    refs: list[str] = typer.Argument(None, help="dead letters to replay; or choose with the options"),
    consumer: str = typer.Option(None),
    reason: str = typer.Option(None),
    include_undecodable: bool = typer.Option(False, help="also messages that are not events at all"),
    kafka: str = typer.Option(None),
) -> None:
    """Put dead letters back on their original topics, once their cause is mended. Safe to repeat: every
    consumer is idempotent by event id."""
    from services.common.dead_letters import list_dead_letters, replay

    if not refs and not consumer and not reason:
        raise typer.BadParameter("name the dead letters, or choose them with --consumer / --reason")
    bootstrap = _kafka(kafka)
    entries = asyncio.run(list_dead_letters(bootstrap, consumer, reason))
    if refs:
        missing = set(refs) - {e.ref for e in entries}
        if missing:
            typer.echo("no such dead letter: " + ", ".join(sorted(missing)), err=True)
            raise typer.Exit(1)
        entries = [e for e in entries if e.ref in refs]
    for line in asyncio.run(replay(bootstrap, entries, include_undecodable)):
        typer.echo(line)


if __name__ == "__main__":
    app()
