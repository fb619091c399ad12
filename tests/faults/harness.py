"""Real servers a fault test can break: its own PostgreSQL and Redis, the platform under
gunicorn and a Celery worker pointed at them, and a recorder of what clients saw.

Nothing here touches the machine's shared PostgreSQL or Redis: each fault test starts its own
server on a free port in a temporary directory and stops it at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.fixtures.sandbox import REPO_ROOT, SandboxServer

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
FIGURES_DIR = REPO_ROOT / "var" / "reliability"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    done: Callable[[], bool], what: str, seconds: float = 60, log: Path | None = None
) -> float:
    """Poll ``done`` until it holds; return the seconds it took."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > seconds:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"timed out after {seconds}s waiting for {what}\n{tail}")
        time.sleep(0.1)
    return time.monotonic() - start


def pg_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


class OwnPostgres:
    """A PostgreSQL server of this test only: ``initdb`` in a temporary directory, a free port.

    As root the server runs as the ``postgres`` system user (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: its parents are private to root, and the server runs as
        # ``postgres`` when the tests run as root.
        self.base = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.base.chmod(0o755)
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *command], capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.decode(errors='replace')}")

    def init(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--locale", "C")  # fmt: skip
        self.start()

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c full_page_writes=off -c max_connections=60")  # fmt: skip
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``immediate`` is a crash: no checkpoint, clients cut off, WAL replayed at start."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def copy_database(self, source_url: str, name: str) -> str:
        """Create ``name`` here as a copy (schema and rows) of the database at ``source_url``."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        dump = subprocess.run([str(PG_BIN / "pg_dump"), "--no-owner", "--no-acl", source_url],
                              check=True, capture_output=True, timeout=120).stdout  # fmt: skip
        subprocess.run([str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url(name)],
                       input=dump, check=True, capture_output=True, timeout=120)  # fmt: skip
        return self.url(name)

    def close(self) -> None:
        if self.running():
            with suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class OwnRedis:
    """A ``redis-server`` of this test only (no persistence), to stop and start again."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.log = base / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--logfile", str(self.log)]  # fmt: skip
        self.process = subprocess.Popen(command)

        wait_for(lambda: _redis_ping(self.url(0)), "redis-server to answer", 20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def _redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def platform_env(*, database_url: str, redis_url: str, broker_url: str, sandbox: SandboxServer,
                 public_url: str, **extra: str) -> dict[str, str]:  # fmt: skip
    """The production settings pointed at the test's own servers and the sandbox."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        "CARRIER_BASE_URL": sandbox.url,
        "PAYMENTS_SANDBOX_URL": sandbox.url,
        "ALIPAY_GATEWAY": f"{sandbox.url}/alipay/gateway.do",
        "WECHAT_API_BASE": f"{sandbox.url}/wechat",
        "UNIONPAY_GATEWAY": f"{sandbox.url}/unionpay/gateway/api",
        "PAYMENTS_PUBLIC_BASE_URL": public_url,
        "CARRIER_CALLBACK_BASE_URL": public_url,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    env.update(extra)
    return env


class Process:
    """A long-running child (gunicorn, celery) with its log."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.command, self.env = name, command, env
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, cwd=REPO_ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)  # fmt: skip

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def web_server(env: dict[str, str], log_dir: Path) -> tuple[Process, str]:
    """The platform under gunicorn (one process, eight threads, as ``WEB_SERVER=gunicorn``)."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
               f"127.0.0.1:{port}", "--workers", "1", "--threads", "8", "--worker-class", "gthread",
               "--timeout", "60", "--graceful-timeout", "5"]  # fmt: skip
    process = Process("web", command, env, log_dir)
    return process, f"http://127.0.0.1:{port}"


def start_web(process: Process, url: str) -> None:
    process.start()
    wait_for(lambda: _answers(f"{url}/healthz"), "the platform to serve", 60, process.log)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def celery_worker(env: dict[str, str], log_dir: Path, name: str = "worker") -> Process:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
               "--concurrency", "4", "--loglevel", "WARNING", "-n", f"{name}{os.getpid()}@%h",
               "--without-mingle", "--without-gossip", "--without-heartbeat"]  # fmt: skip
    return Process(name, command, env, log_dir)


@dataclass
class Figures:
    """What clients saw around one fault, written to ``var/reliability/<name>.json``."""

    name: str
    fault: str
    requests_during_fault: int = 0
    errors_during_fault: int = 0
    server_errors_during_fault: int = 0
    statuses_during_fault: dict[str, int] = field(default_factory=dict)
    requests_total: int = 0
    errors_total: int = 0
    recovery_seconds: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _fault_on: bool = field(default=False, repr=False)

    def record(self, status: int | str) -> None:
        """One client request's outcome: an HTTP status or an exception's name."""
        with self._lock:
            self.requests_total += 1
            failed = not (isinstance(status, int) and status < 500)
            self.errors_total += failed
            if self._fault_on:
                self.requests_during_fault += 1
                self.errors_during_fault += failed
                self.server_errors_during_fault += isinstance(status, int) and status >= 500
                self.statuses_during_fault[str(status)] = (
                    self.statuses_during_fault.get(str(status), 0) + 1
                )

    @contextmanager
    def during_fault(self) -> Iterator[None]:
        self._fault_on = True
        try:
            yield
        finally:
            self._fault_on = False

    def write(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        FIGURES_DIR.mkdir(parents=True, exist_ok=True)
        (FIGURES_DIR / f"{self.name}.json").write_text(
            json.dumps(data, indent=2, ensure_ascii=False)
        )
        print(json.dumps(data, ensure_ascii=False))
        return data


def call(
    figures: Figures, client: httpx.Client, method: str, url: str, **kwargs: Any
) -> httpx.Response | None:
    """One request whose outcome counts in ``figures``; ``None`` when it got no answer."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        figures.record(type(exc).__name__)
        return None
    figures.record(response.status_code)
    return response
