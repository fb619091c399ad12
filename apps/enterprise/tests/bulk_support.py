"""Shared arrangements for the bulk distribution and sponsored data tests: packs, an enterprise,
a held grant, the sandbox's rows."""

from __future__ import annotations

from typing import Any

import psycopg

from apps.accounts.models import Role, User
from apps.catalog.tests.factories import category, product, product_type
from apps.enterprise import billing, sponsored
from apps.enterprise.models import SponsoredGrant
from tests.fixtures.concurrency import together  # noqa: F401 (the race tests import it from here)
from tests.fixtures.sandbox import _sandbox_database_url
from tests.fixtures.sandbox_support import unique_msisdn

SCHEMA = [
    {"key": "volume", "label": "流量", "type": "str", "required": True},
    {"key": "validity_days", "label": "有效期", "type": "int", "required": True},
]


def data_packs() -> None:
    """Two data-pack SKUs: DATA-1G at 5.00 yuan and DATA-500M at 3.00 yuan."""
    cat = category("data")
    ptype = product_type("data_pack", needs_number=True, schema=SCHEMA)
    product(cat, ptype, "流量包 1GB", price=500, code="DATA-1G",
            attributes={"volume": "1GB", "validity_days": 30})  # fmt: skip
    product(cat, ptype, "流量包 500MB", price=300, code="DATA-500M",
            attributes={"volume": "500MB", "validity_days": 7})  # fmt: skip


def enterprise(phone: str = "13900000001", *, topup_fen: int = 10_000) -> User:
    from django.contrib.auth.models import Group

    user = User.objects.create_user(phone)
    user.groups.add(Group.objects.get_or_create(name=Role.ENTERPRISE)[0])
    if topup_fen:
        billing.enterprise_topup(enterprise_id=user.pk, amount_fen=topup_fen,
                                 reference=f"BANK-{user.pk}", actor_id=None)  # fmt: skip
    return user


def sandbox_packs(msisdn: str, batch_no: str = "") -> list[tuple[str, int]]:
    """The data packs the sandbox applied to ``msisdn`` (for one batch, or all, as the sandbox's
    database outlives each test): (idempotency key, MB), oldest first."""
    with psycopg.connect(_sandbox_database_url()) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, volume_mb FROM sandbox_provisioning "
            "WHERE msisdn = %s AND kind = 'data_pack' AND idempotency_key LIKE %s ORDER BY id",
            [msisdn, f"bulk:{batch_no}%"],
        ).fetchall()
    return [(str(key), int(mb)) for key, mb in rows]


def held_grant(carrier_sandbox: Any) -> SponsoredGrant:
    """DATA-1G (5.00 yuan) granted by "演示科技" to a new active number: held, not delivered
    (in a test whose transaction never commits, its delivery task never runs)."""
    data_packs()
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    owner = enterprise()
    return sponsored.sponsored_grant(
        sponsor_id=owner.pk, sponsor_name="演示科技", request_id="r-1",
        msisdn=msisdn, pack_code="DATA-1G",
    ).grant  # fmt: skip


def sandbox_applied(key: str) -> int:
    """How many times the sandbox applied a request under ``key``."""
    with psycopg.connect(_sandbox_database_url()) as conn:
        row = conn.execute(
            "SELECT count(*) FROM sandbox_provisioning WHERE idempotency_key = %s", [key]
        ).fetchone()
    return int(row[0]) if row else 0
