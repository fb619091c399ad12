"""Fixtures for the whole suite: a clean Redis per test, the carrier sandbox process."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = [
    "tests.fixtures.sandbox",
    "apps.ledger.tests.support",
    "apps.gateway.tests.support",
]


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Counters and nonces from one test must not leak into the next."""
    from apps.core.redis import get_redis

    get_redis().flushdb()
    from apps.risk.recorder import pending_discard
    from apps.risk.snapshot import invalidate

    invalidate()  # the risk configuration cached in this process belongs to the last test
    pending_discard()  # and so do the decisions it buffered


@pytest.fixture
def embedded_var_dir() -> Iterator[Path]:
    """A var dir (CARRIERHUB_VAR_DIR) for an embedded PostgreSQL, outside pytest's temporary
    root: pytest makes /tmp/pytest-of-<user> private again whenever a session (another xdist
    worker's, a test's inner pytest) starts, and the embedded server, run as its own system
    user when we are root, must traverse the path to its data (pg_ctl stop was refused)."""
    path = Path(tempfile.mkdtemp(prefix="carrierhub-var-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def redis_down(settings) -> Iterator[None]:
    """Point the platform at a Redis that refuses connections (nothing listens on port 9)."""
    from apps.core.redis import get_redis

    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    get_redis.cache_clear()
    yield
    get_redis.cache_clear()


@pytest.fixture(autouse=True)
def _ledger_accounts(request: pytest.FixtureRequest) -> None:
    """The standard ledger accounts come from a migration; a transactional test's flush
    empties them, so tests that use the database get them back when they are missing."""
    if request.node.get_closest_marker("django_db") is None and not (
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    ):
        return
    from apps.ledger.tests.support import _commits

    request.getfixturevalue("transactional_db" if _commits(request) else "db")
    from apps.ledger.models import LedgerAccount
    from apps.ledger.services import ledger_bootstrap

    if not LedgerAccount.objects.filter(code="platform:revenue").exists():
        ledger_bootstrap()
        # The same flush took the risk caps the migrations seed (phone-bill caps).
        from importlib import import_module

        from apps.risk.models import Cap

        import_module("apps.risk.migrations.0003_phone_bill_caps").phone_bill_caps_ensure(Cap)
        import_module("apps.risk.migrations.0004_content_caps").content_caps_ensure(Cap)


@pytest.fixture(autouse=True)
def _staff_second_factor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A staff member signed in with ``force_login`` has also passed the workbench's password
    and authenticator check (tests marked ``real_second_factor`` go through it for real)."""
    if request.node.get_closest_marker("real_second_factor"):
        return
    from django.test import Client

    from apps.accounts.second_factor import second_factor_mark

    original = Client.force_login

    def force_login(self: Client, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        if user.is_staff:
            session = self.session
            second_factor_mark(session)
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


if os.environ.get("CARRIERHUB_CLUSTER"):
    # make test-cluster: the tests run in the cluster's own `citus` database, which has the
    # extension and the worker nodes (a CREATE DATABASE'd test database would have neither).
    # It is migrated and distributed once; nothing is created or dropped.
    @pytest.fixture(scope="session")
    def django_db_setup(django_db_blocker: Any) -> None:
        from django.core.management import call_command
        from django.db import connection

        from apps.core.distribution import has_citus

        with django_db_blocker.unblock():
            # The tests flush what they write: never in a database that is not a cluster's.
            if connection.settings_dict["NAME"] != "citus" or not has_citus():
                pytest.exit(
                    "CARRIERHUB_CLUSTER is set but DATABASE_URL does not name a Citus "
                    "coordinator's `citus` database: refusing to run tests in it",
                    returncode=2,
                )
            call_command("migrate", interactive=False, verbosity=0)
            call_command("distribute", verbosity=0)
