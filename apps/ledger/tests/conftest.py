"""Ledger fixtures: the standard accounts plus a few test accounts (the root conftest loads the
plugin that empties the book after tests that commit)."""

from __future__ import annotations

import pytest

from apps.ledger.models import LedgerAccount
from apps.ledger.services import account_ensure, ledger_bootstrap

# Accounts the tests post between, beside the standard ones.
TEST_ACCOUNTS = [
    ("payable:cp:1", "CP 1", "liability", "CNY"),
    ("payable:cp:2", "CP 2", "liability", "CNY"),
    ("payable:channel:1", "Channel 1", "liability", "CNY"),
    ("points:user:1", "User 1 points", "liability", "POINTS"),
    ("points:user:2", "User 2 points", "liability", "POINTS"),
]


def _accounts() -> dict[str, int]:
    ledger_bootstrap()
    for code, name, kind, unit in TEST_ACCOUNTS:
        account_ensure(code=code, name=name, kind=kind, unit=unit)
    return dict(LedgerAccount.objects.values_list("code", "pk"))


@pytest.fixture
def accounts(db) -> dict[str, int]:
    """Every account, code -> id, in the test's rolled-back transaction."""
    return _accounts()


@pytest.fixture
def committed_accounts(transactional_db) -> dict[str, int]:
    """Every account, committed, for tests with threads or real commits."""
    return _accounts()
