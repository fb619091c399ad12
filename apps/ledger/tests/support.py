"""Test support for the ledger, also a pytest plugin for any test that commits journals.

Django's flush after a transactional test truncates every table, and the ledger refuses to
truncate journals or lines that hold rows. ``ledger_wipe_after_commits`` empties the book
first. It is active for the ledger's tests; for the whole suite, add
``"apps.ledger.tests.support"`` to ``pytest_plugins`` in the root conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, transaction

_BALANCE_TRIGGERS = "ledger_journalline_balanced, ledger_journal_has_lines"


def ledger_wipe() -> None:
    """Empty the book (journals, lines; balances back to zero, slots gone) in one transaction.

    The table owner may switch the triggers off for the length of this transaction; no other
    session sees them off.
    """
    from apps.core.partitions import partitions_attached

    # The lines' partitions carry the TRUNCATE guard of their own (statement-level triggers
    # are not cloned from the parent), so they are switched off one by one too.
    tables = ["ledger_journalline", *sorted(partitions_attached("ledger_journalline")),
              "ledger_journal"]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute("TRUNCATE ledger_journalline, ledger_journal")
        for table in reversed(tables):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute("UPDATE ledger_accountbalance SET balance_fen = 0")
        cursor.execute("DELETE FROM ledger_accountbalanceslot")


def _commits(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)))
        or {"transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def ledger_wipe_after_commits(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that commits, empty the book before Django's flush truncates the tables."""
    if not _commits(request):
        yield
        return
    # Requested from here, the database fixture is torn down (flushed) after this one.
    request.getfixturevalue("transactional_db")
    yield
    from apps.ledger.models import Journal  # this plugin is imported before Django is set up

    if Journal.objects.exists():
        ledger_wipe()


def run_commit_checks() -> None:
    """Run the deferred balance triggers now, as COMMIT would, then defer them again.

    Tests inside one rolled-back transaction never commit; Django runs these checks when the
    test ends, and this runs them in between (after each Hypothesis example).
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {_BALANCE_TRIGGERS} IMMEDIATE")
        cursor.execute(f"SET CONSTRAINTS {_BALANCE_TRIGGERS} DEFERRED")
