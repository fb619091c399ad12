"""``make run``: migrate, seed and serve the platform and the sandbox on the zero-config defaults.

With DATABASE_URL unset it starts the embedded PostgreSQL (data under var/); with REDIS_URL
unset it serves an in-process Redis substitute (fakeredis over TCP) that every process shares.
Ctrl-C stops everything this script started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

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


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def _start_fake_redis() -> str:
    from fakeredis import TcpFakeServer

    port = _free_port()
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    threading.Thread(target=server.serve_forever, daemon=True, name="fakeredis").start()
    return f"redis://127.0.0.1:{port}/0"


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
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    env.setdefault("CARRIER_BASE_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("CARRIER_CALLBACK_BASE_URL", f"http://127.0.0.1:{WEB_PORT}")
    env.setdefault("SERVE_MEDIA", "1")
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

    started_db = False
    if not env.get("DATABASE_URL"):
        was_running = embedded.embedded_is_running()
        env["DATABASE_URL"] = embedded.embedded_database_url()
        started_db = not was_running
        print(f"database: embedded PostgreSQL, data in {embedded.PGDATA}")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = _start_fake_redis()
        print(f"redis: in-process substitute at {env['REDIS_URL']}")

    children: list[subprocess.Popen[bytes]] = []
    try:
        _manage("migrate", "--noinput", env=env)
        _manage("collectstatic", "--noinput", "-v", "0", env=env)
        _manage("seed_demo", env=env)
        sandbox_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.sandbox"}
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
                  "--blocking-threads", "8", "--no-ws", "config.wsgi:application"]
        )  # fmt: skip
        children.append(subprocess.Popen(web_server, cwd=ROOT, env=env))  # noqa: S603
        if not env.get("CELERY_BROKER_URL"):
            # No broker, so no beat: run the periodic tasks (order expiry, payment recovery)
            # in a process of their own.
            children.append(
                subprocess.Popen([sys.executable, "manage.py", "run_schedule"], cwd=ROOT, env=env)
            )
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
  carrier sandbox  {sandbox}/   SMS inbox: {sandbox}/sms/inbox/
  health           {web}/healthz
Consumers sign in at {web}/accounts/login/ with any mobile number, e.g. 13800138000;
the code arrives in the sandbox SMS inbox.
""",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a server stopped; shutting down")
        return 1
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"set-up step failed: {' '.join(map(str, exc.cmd[1:]))}")
        return 1
    finally:
        # A second Ctrl-C or SIGTERM while cleaning up must not skip stopping the database.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if started_db:
            embedded.stop_embedded()
            print("embedded PostgreSQL stopped")


if __name__ == "__main__":
    sys.exit(main())
