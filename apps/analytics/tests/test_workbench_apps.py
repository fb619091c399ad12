"""The to-dos content, risk and settlement register on the workbench home page: each role sees
its own queues with their counts, links to the filtered lists it may open, and not another
role's queues."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache

from apps.content import services as content
from apps.content.tests.support import approved_cp, product_on_sale
from apps.core import workbench
from apps.risk.models import Case, Hold
from apps.settlement.models import ReconBatch, ReconDifference, SettlementBatch, Statement

pytestmark = pytest.mark.django_db

CONTENT = {"content.cp_applications", "content.products_pending", "content.price_changes_pending"}
RISK = {"risk.open_cases", "risk.review_queue"}
SETTLEMENT = {
    "settlement.statements_to_confirm",
    "settlement.statements_not_tied_out",
    "settlement.recon_differences_open",
}


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()


def staff(client, role: str):
    user = get_user_model().objects.create_user("+8613910000001", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


@pytest.fixture
def work():
    """Two of each queue's rows waiting, one done (which no count includes)."""
    # Content: one CP applying, one product new, one price change proposed.
    applicant = get_user_model().objects.create_user("+8613710009999")
    content.cp_register(user_id=applicant.pk, name="新CP", licence_number="LIC-W-1",
                        bank_account="6222000011112222", contact_name="王五",
                        contact_phone="13700000001")  # fmt: skip
    cp = approved_cp()
    content.product_create(cp_id=cp.pk, actor_id=None, kind="reading", title="待审", description="x",
                           price_fen=500, billing_mode="one_off", billing_code="BW1",
                           notify_url="", chapters=[])  # fmt: skip
    on_sale = product_on_sale(cp, price_fen=800)
    content.price_change_propose(product_id=on_sale.pk, cp_id=cp.pk, price_fen=900, actor_id=None)
    # Risk: two open cases and a closed one; one hold waiting and one released.
    today = dt.date(2026, 11, 3)
    for subject, status in (("u1", "open"), ("u2", "open"), ("u3", "closed")):
        Case.objects.create(
            anomaly="velocity", subject=subject, day=today, title="t", status=status
        )
    for ref, status in (("O1", "held"), ("O2", "released")):
        Hold.objects.create(owner="orders", reference=ref, kind="order_pay",
                            decision_id=uuid.uuid4(), status=status)  # fmt: skip
    # Settlement: a draft that ties out, one that does not, a confirmed one; recon differences.
    batch = SettlementBatch.objects.create(kind="cp", period_start=dt.date(2026, 10, 1),
                                           period_end=dt.date(2026, 11, 1))  # fmt: skip
    for party, status, ties in ((1, "draft", True), (2, "draft", False), (3, "confirmed", True)):
        Statement.objects.create(batch=batch, kind="cp", party_id=party, account_code=f"cp:{party}",
                                 period_start=batch.period_start, period_end=batch.period_end,
                                 status=status, tie_out_ok=ties)  # fmt: skip
    recon = ReconBatch.objects.create(provider="alipay", bill_date=today, merchant_id="m")
    for key, status in (("a", "open"), ("b", "investigating"), ("c", "resolved")):
        ReconDifference.objects.create(batch=recon, kind="amount_mismatch", key=key, status=status)


def test_the_new_queues_count_what_waits(work):
    counts = {t.key: t.count() for t in workbench.todos() if t.key in CONTENT | RISK | SETTLEMENT}
    assert counts == {
        "content.cp_applications": 1,
        "content.products_pending": 1,
        "content.price_changes_pending": 1,
        "risk.open_cases": 2,
        "risk.review_queue": 1,
        "settlement.statements_to_confirm": 1,
        "settlement.statements_not_tied_out": 1,
        "settlement.recon_differences_open": 2,
    }


@pytest.mark.parametrize(
    ("role", "mine", "others"),
    [
        ("cp_reviewer", CONTENT, RISK | SETTLEMENT),
        ("risk", RISK, CONTENT | SETTLEMENT),
        ("finance", SETTLEMENT, CONTENT | RISK),
        ("partner_reviewer", set(), CONTENT | RISK | SETTLEMENT),
    ],
)
def test_each_role_sees_its_queues_and_opens_their_lists(client, work, role, mine, others):
    staff(client, role)
    html = client.get("/admin/").content.decode()
    shown = {s.key: s for s in workbench.todos_for(role)}
    for key in mine:
        assert f'data-todo="{key}"' in html
        assert shown[key].value and shown[key].value > 0
        # The link opens (the role has the permissions) on exactly the counted rows.
        page = client.get(shown[key].url)
        assert page.status_code == 200, (key, shown[key].url)
        assert page.context["cl"].result_count == shown[key].value, key
    for key in others:
        assert f'data-todo="{key}"' not in html
        assert key not in shown
