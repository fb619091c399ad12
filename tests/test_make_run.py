"""``make run`` on a machine with nothing configured: it comes up healthy, and Ctrl-C stops
everything it started (embedded PostgreSQL and Redis included) and exits 0.

The script (``scripts/run.py``) runs in its own session with its own data directory and free
ports, as a terminal would run it; Ctrl-C is SIGINT to its whole process group, which is what
the terminal sends to the foreground group. Slow (migrate and seed a new database): about a
minute on two quiet cores.
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _group(pgid: int) -> str:
    """The processes left in the group, for the failure message."""
    listing = subprocess.run(
        ["ps", "-o", "pid,stat,etime,args", "-g", str(pgid)], capture_output=True, text=True
    )
    return listing.stdout


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


def test_run_serves_and_ctrl_c_stops_everything_with_exit_0(embedded_var_dir):
    web, sandbox = _free_port(), _free_port()
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env.update(
        CARRIERHUB_VAR_DIR=str(embedded_var_dir), WEB_PORT=str(web), SANDBOX_PORT=str(sandbox),
        WORKER_CONCURRENCY="4",
    )  # fmt: skip
    # Started with SIGINT ignored, as a shell without job control starts `make run &` (and as
    # this suite's own processes are when it was started so): Ctrl-C must still stop it with 0.
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.run"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 600
        while not _healthy(f"http://127.0.0.1:{web}/healthz"):
            assert process.poll() is None, "".join(output)[-3000:]
            assert time.monotonic() < deadline, "".join(output)[-3000:]
            time.sleep(1)
        assert _healthy(f"http://127.0.0.1:{sandbox}/healthz") or _listening(sandbox)
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/", timeout=10) as home:
            assert home.status == 200
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        assert process.wait(timeout=180) == 0, "".join(output)[-3000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    reader.join(timeout=10)
    text = "".join(output)
    assert "embedded PostgreSQL stopped" in text, text[-3000:]
    # Nothing it started is left: its process group is empty (a port check would race with
    # other processes taking the freed port).
    deadline = time.monotonic() + 30
    while _group_alive(process.pid):
        assert time.monotonic() < deadline, "a process of make run outlived it:\n" + _group(
            process.pid
        )
        time.sleep(0.2)
    probe = "from config.embedded import embedded_is_running; print(embedded_is_running())"
    running = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert running.stdout.strip() == "False"


def test_the_test_run_stops_the_embedded_postgres_it_started(tmp_path, embedded_var_dir):
    """``make test`` with no DATABASE_URL starts the embedded PostgreSQL (tests/database_plugin)
    and stops it when the run ends."""
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env["CARRIERHUB_VAR_DIR"] = str(embedded_var_dir)
    inner = tmp_path / "test_inner.py"
    inner.write_text(
        "def test_the_server_runs():\n"
        "    from config.embedded import embedded_is_running\n"
        "    assert embedded_is_running()\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), "-p", "no:django", str(inner)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    probe = "from config.embedded import embedded_is_running; print(embedded_is_running())"
    running = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert running.stdout.strip() == "False"
