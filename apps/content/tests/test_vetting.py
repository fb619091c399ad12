"""Risk control's vetting hook in the review: a product or a price above the threshold, or a CP
with too many complaints, needs a second reviewer, who must be another operator."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.admin import helpers
from django.utils import timezone

from apps.accounts.models import User
from apps.content import selectors, services
from apps.content.errors import SecondReviewerRequired
from apps.content.models import ContentProduct, PricePoint
from apps.content.tests.support import approved_cp, operator, product_on_sale
from apps.core.models import AuditEvent
from apps.risk.models import DecisionRecord, Label

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _thresholds(settings):
    settings.RISK_VETTING_PRICE_FEN = 3000
    settings.RISK_COMPLAINT_RATE_MAX = 0.02


def _second() -> User:
    return User.objects.get_or_create(phone="+8613900000002")[0]


def _proposed(cp, price_fen: int) -> ContentProduct:
    return services.product_create(
        cp_id=cp.pk, actor_id=None, kind="game", title="钻石礼包", description="",
        price_fen=price_fen, billing_mode="one_off", billing_code=f"V{uuid.uuid4().hex[:8]}",
    )  # fmt: skip


def _trail(product: ContentProduct) -> list[tuple[str, int | None]]:
    return list(
        AuditEvent.objects.filter(object_type="content_product", object_id=str(product.pk))
        .order_by("id")
        .values_list("action", "actor_id")
    )


def test_a_product_above_the_price_threshold_needs_a_second_operator():
    cp = approved_cp()
    product = _proposed(cp, 3001)

    first = services.product_review(
        product_id=product.pk, decision="approve", actor_id=operator().pk
    )
    assert (first.status, first.first_reviewer_id) == ("pending", operator().pk)
    assert first.catalog_product_id is None  # not on sale after one approval
    assert selectors.products_awaiting_review() == 1
    with pytest.raises(SecondReviewerRequired) as same:
        services.product_review(product_id=product.pk, decision="approve", actor_id=operator().pk)
    assert same.value.details == {"reasons": ["PRICE_ABOVE_THRESHOLD"]}

    done = services.product_review(product_id=product.pk, decision="approve", actor_id=_second().pk)

    assert (done.status, done.first_reviewer_id) == ("approved", None)
    assert done.catalog_product_id is not None
    assert _trail(product) == [
        ("content_product.proposed", None),
        ("content_product.first_approval", operator().pk),
        ("content_product.approved", _second().pk),
    ]
    first_approval = AuditEvent.objects.get(action="content_product.first_approval")
    assert first_approval.after["reasons"] == ["PRICE_ABOVE_THRESHOLD"]


def test_a_product_at_the_threshold_needs_one_reviewer_and_a_rejection_clears_a_first_approval():
    cp = approved_cp()
    assert product_on_sale(cp, price_fen=3000).status == "approved"
    dear = _proposed(cp, 5000)
    services.product_review(product_id=dear.pk, decision="approve", actor_id=operator().pk)

    services.product_review(
        product_id=dear.pk, decision="reject", actor_id=_second().pk, reason="价格过高"
    )
    services.product_resubmit(cp_id=cp.pk, product_id=dear.pk, actor_id=operator().pk, changes={})

    again = services.product_review(product_id=dear.pk, decision="approve", actor_id=_second().pk)
    assert (again.status, again.first_reviewer_id) == ("pending", _second().pk)


def test_a_price_change_above_the_threshold_needs_a_second_operator():
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=1000)
    services.price_change_propose(cp_id=cp.pk, product_id=product.pk, price_fen=6000, actor_id=None)

    first = services.price_change_review(
        product_id=product.pk, approve=True, actor_id=operator().pk
    )
    assert (first.price_fen, first.proposed_price_fen, first.price_first_reviewer_id) == (
        1000,
        6000,
        operator().pk,
    )
    with pytest.raises(SecondReviewerRequired):
        services.price_change_review(product_id=product.pk, approve=True, actor_id=operator().pk)
    # A new proposal starts the review again.
    services.price_change_propose(cp_id=cp.pk, product_id=product.pk, price_fen=6500, actor_id=None)
    assert PricePoint.objects.get(product=product, is_default=True).price_first_reviewer_id is None
    services.price_change_review(product_id=product.pk, approve=True, actor_id=operator().pk)

    done = services.price_change_review(product_id=product.pk, approve=True, actor_id=_second().pk)

    assert (done.price_fen, done.proposed_price_fen, done.price_first_reviewer_id) == (
        6500,
        None,
        None,
    )
    actions = [a for a, _actor in _trail(product)]
    assert actions[-2:] == [
        "content_product.price_first_approval",
        "content_product.price_approved",
    ]


def test_a_cheap_product_of_a_cp_with_too_many_complaints_needs_a_second_operator():
    cp = approved_cp()
    now = timezone.now()
    DecisionRecord.objects.bulk_create(
        DecisionRecord(created_at=now, id=uuid.uuid4(), kind="content_charge", outcome="allow",
                       cp_id=str(cp.pk), reference=f"CC{i}")
        for i in range(20)
    )  # fmt: skip
    Label.objects.create(source="complaint", reference="CC1", cp_id=str(cp.pk), origin="t:1")
    product = _proposed(cp, 100)  # 1 complaint in 20 charges: 5 % > 2 %

    first = services.product_review(
        product_id=product.pk, decision="approve", actor_id=operator().pk
    )

    assert first.status == "pending"
    with pytest.raises(SecondReviewerRequired) as same:
        services.product_review(product_id=product.pk, decision="approve", actor_id=operator().pk)
    assert same.value.details == {"reasons": ["CP_COMPLAINT_RATE"]}


def test_the_workbench_says_a_second_reviewer_must_approve(client):
    staff = User.objects.create_superuser("+8613900009998", password="x")
    client.force_login(staff)
    product = _proposed(approved_cp(), 9900)

    page = client.post(
        "/admin/content/contentproduct/",
        {"action": "approve", helpers.ACTION_CHECKBOX_NAME: [product.pk]},
        follow=True,
    )

    assert ContentProduct.objects.get(pk=product.pk).first_reviewer_id == staff.pk
    text = page.content.decode()
    assert "second reviewer" in text or "第二位审核人" in text
    assert "PRICE_ABOVE_THRESHOLD" in text
