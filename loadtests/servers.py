"""The server configurations under test, and starting and stopping them on a free loopback port.

Each server runs in its own process group, so stopping it also stops its workers. Extra WSGI
servers (granian) are installed into the virtualenv only when a benchmark asks for them; they
are not project requirements.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
DJANGO_APP = "config.wsgi:application"
HELLO_APP = "loadtests.hello_wsgi:application"
# Extra servers a benchmark may install: module name -> pip requirement.
EXTRAS = {"granian": "granian==2.8.9"}  # a requirement since; kept for older virtualenvs


@dataclass(frozen=True)
class ServerConfig:
    name: str
    label: str
    server: str  # "gunicorn" or "granian"
    workers: int
    threads: int = 1
    worker_class: str = "sync"  # gunicorn only
    app: str = DJANGO_APP
    env: dict[str, str] = field(default_factory=dict)

    @property
    def is_django(self) -> bool:
        return self.app == DJANGO_APP

    def argv(self, port: int) -> list[str]:
        if self.server == "granian":
            return [
                sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(self.workers),
                "--blocking-threads", str(self.threads), "--no-ws", "--log-level", "warning",
                self.app,
            ]  # fmt: skip
        return [
            sys.executable, "-m", "gunicorn", self.app, "--bind", f"127.0.0.1:{port}",
            "--worker-class", self.worker_class, "--workers", str(self.workers),
            "--threads", str(self.threads), "--timeout", "120", "--no-control-socket",
            "--log-level", "warning",
        ]  # fmt: skip


CONFIGS = [
    ServerConfig("sync-4", "gunicorn sync, 4 workers", "gunicorn", 4),
    ServerConfig("sync-8", "gunicorn sync, 8 workers", "gunicorn", 8),
    ServerConfig(
        "gthread-2x8",
        "gunicorn gthread, 2 workers × 8 threads (`make run` before granian)",
        "gunicorn",
        2,
        threads=8,
        worker_class="gthread",
    ),
    ServerConfig("granian-2x1", "granian WSGI, 2 workers × 1 thread", "granian", 2, threads=1),
    ServerConfig(
        "granian-2x8",
        "granian WSGI, 2 workers × 8 threads (as `make run`)",
        "granian",
        2,
        threads=8,
    ),
    ServerConfig(
        "granian-2x8-nocache",
        "granian 2 × 8, page and search caches off (every request renders or searches)",
        "granian",
        2,
        threads=8,
        env={"PAGE_CACHE_SECONDS": "0", "SEARCH_CACHE_SECONDS": "0"},
    ),
    ServerConfig(
        "gthread-2x8-nocache",
        "gunicorn gthread 2 × 8, page cache off (PAGE_CACHE_SECONDS=0)",
        "gunicorn",
        2,
        threads=8,
        worker_class="gthread",
        env={"PAGE_CACHE_SECONDS": "0"},
    ),
    ServerConfig(
        "granian-2x1-localmem",
        "granian 2 × 1, per-process memory cache instead of Redis (an upper bound only: a "
        "catalog change would not reach the other processes)",
        "granian",
        2,
        env={"REDIS_URL": ""},
    ),
    ServerConfig(
        "hello-sync-4",
        "hello-world WSGI (no Django), gunicorn sync 4",
        "gunicorn",
        4,
        app=HELLO_APP,
    ),
    ServerConfig(
        "hello-gthread-2x8",
        "hello-world WSGI (no Django), gunicorn gthread 2 × 8",
        "gunicorn",
        2,
        threads=8,
        worker_class="gthread",
        app=HELLO_APP,
    ),
    ServerConfig(
        "hello-granian-2x1",
        "hello-world WSGI (no Django), granian 2 × 1",
        "granian",
        2,
        app=HELLO_APP,
    ),
]
BY_NAME = {c.name: c for c in CONFIGS}
# Search goes through the JSON API, whose answers are cached per query (not per page); the
# hello-world app has nothing to show there.
SEARCH_CONFIGS = ["sync-4", "gthread-2x8", "granian-2x1", "granian-2x8", "granian-2x8-nocache"]


def code_version() -> str:
    """The commit the servers run, with "+changes" if the platform's code differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603, S607
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "apps", "config", "templates", "static")
    return git("rev-parse", "--short", "HEAD") + ("+changes" if changed else "")


def installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def ensure_extras(*, install: bool) -> dict[str, str]:
    """Extra servers available now, name -> version; installs missing ones if ``install``."""
    available: dict[str, str] = {}
    for module, requirement in EXTRAS.items():
        if importlib.util.find_spec(module) is None and install:
            print(
                f"installing {requirement} into {sys.prefix} for the benchmark (not a project requirement)"
            )
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "pip", "install", "-q", requirement],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                print(f"  could not install {requirement}; skipping it:\n{done.stderr[-2000:]}")
            importlib.invalidate_caches()
        if importlib.util.find_spec(module) is not None:
            available[module] = installed_version(module)
            print(f"{module} {available[module]} is available")
        else:
            print(f"{module} is not installed; its configurations are skipped")
    return available


def usable(config: ServerConfig, extras: dict[str, str]) -> bool:
    return config.server == "gunicorn" or config.server in extras


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    config: ServerConfig
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, limit: int = 3000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-limit:]


def _wait_ready(server: RunningServer, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.config.name} exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.base_url + path, timeout=30):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return  # it answers; a 404 is fine
            last = str(exc)
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.3)
    raise RuntimeError(
        f"{server.config.name} not ready after {timeout:.0f} s ({last}):\n{server.log_tail()}"
    )


def stop(server: RunningServer) -> None:
    """SIGTERM to the server's process group, SIGKILL after 20 s."""
    if server.process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
    # Workers left behind by a master that died first.
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    server.log.close()


@contextmanager
def running(
    config: ServerConfig, env: dict[str, str], *, ready_path: str = "/bench-ready-probe"
) -> Iterator[RunningServer]:
    """Start ``config`` on a free loopback port, wait until it answers, stop it on the way out."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
    process = subprocess.Popen(  # noqa: S603
        config.argv(port), cwd=ROOT, env={**env, **config.env}, stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip
    server = RunningServer(config, port, process, log)
    try:
        _wait_ready(server, ready_path, timeout=120)
        yield server
    finally:
        stop(server)
