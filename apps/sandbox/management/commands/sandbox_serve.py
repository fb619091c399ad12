"""``manage.py sandbox_serve``: create the sandbox database if missing, migrate, seed, serve.

Run it with ``DJANGO_SETTINGS_MODULE=config.settings.sandbox``; it ends by replacing itself
with gunicorn, so the process that a supervisor (or a test fixture) started is the server.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from psycopg import sql

from apps.sandbox.device import seed_device_demo
from apps.sandbox.network import seed_sim_changes
from apps.sandbox.seed import seed_mobile, seed_subscribers

# Keys of DATABASES[...]["OPTIONS"] that Django reads itself and libpq would refuse.
_DJANGO_ONLY_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "assume_role", "pool", "cursor_factory"}
)


def _admin_conninfo(database: dict[str, Any]) -> dict[str, Any]:
    """Connection keywords for the maintenance database ``postgres`` on the sandbox's server."""
    options = database.get("OPTIONS") or {}
    params: dict[str, Any] = {k: v for k, v in options.items() if k not in _DJANGO_ONLY_OPTIONS}
    # HOST may be a Unix socket directory, or empty with the socket in OPTIONS["host"].
    for key, name in (
        ("HOST", "host"),
        ("PORT", "port"),
        ("USER", "user"),
        ("PASSWORD", "password"),
    ):
        if database.get(key):
            params[name] = str(database[key])
    params["dbname"] = "postgres"
    return params


def ensure_database(database: dict[str, Any]) -> bool:
    """Create the database ``database["NAME"]`` if it is missing; return whether it was created.

    Two sandboxes starting at once may both find it missing: the loser's CREATE fails with
    DuplicateDatabase (or a unique violation on pg_database), which means it exists.
    """
    name = database["NAME"]
    try:
        with psycopg.connect(**_admin_conninfo(database), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if found:
                return False
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                return False
            return True
    except psycopg.Error as exc:
        raise CommandError(f"cannot create the sandbox database {name!r}: {exc}") from exc


class Command(BaseCommand):
    help = "Prepare the sandbox's database (create, migrate, seed) and serve it with gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--threads", type=int, default=32)
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the database, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ROOT_URLCONF != "apps.sandbox.urls":
            raise CommandError("run with DJANGO_SETTINGS_MODULE=config.settings.sandbox")
        database = settings.DATABASES["default"]
        if ensure_database(database):
            self.stdout.write(f"created database {database['NAME']}")
        try:
            call_command("migrate", interactive=False, verbosity=0)
            created = seed_subscribers()
            seed_sim_changes()
            seed_device_demo()
            seed_mobile()
        except Exception as exc:
            raise CommandError(f"cannot prepare the sandbox database: {exc}") from exc
        if created:
            self.stdout.write(f"seeded {created} demo subscribers")
        if options["no_serve"]:
            return
        host, port = options["host"], options["port"]
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi_sandbox:application",
            "--chdir",
            str(settings.BASE_DIR),
            "--bind",
            f"{host}:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--timeout",
            "60",
            # The default control socket is one fixed path per user: a second gunicorn on the
            # machine (the platform's, another test worker's sandbox) would take it over.
            "--no-control-socket",
        ]
        # gunicorn's workers load the same settings this command ran with.
        os.environ["DJANGO_SETTINGS_MODULE"] = settings.SETTINGS_MODULE
        connections.close_all()
        self.stdout.write(f"sandbox ready at http://{host}:{port}/")
        # exec replaces the process without flushing Python's buffers.
        self.stdout.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvp(sys.executable, argv)  # noqa: S606
        except OSError as exc:
            raise CommandError(f"cannot start gunicorn: {exc}") from exc
