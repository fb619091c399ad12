"""CP review, product review and price-change review; keys; review counts for the workbench."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.catalog.models import Product, Sku
from apps.content import selectors, services
from apps.content.errors import (
    InvalidPrice,
    ProductNotFound,
    ProviderNotApproved,
    ReasonRequired,
    ReviewRefused,
)
from apps.content.models import ContentProduct, ContentProvider, SigningKey
from apps.content.tests.support import approved_cp, operator, product_on_sale
from apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _apply() -> ContentProvider:
    user = User.objects.create_user("+8613711112222")
    return services.cp_register(user_id=user.pk, name="悦读科技", licence_number="ICP-1",
                                bank_account="6222", contact_name="王五", contact_phone="13711112222")  # fmt: skip


def test_a_cp_is_reviewed_rejected_with_a_reason_resubmitted_approved_and_suspended():
    cp = _apply()
    member = User.objects.get(phone="+8613711112222")
    assert member.groups.filter(name="content_provider").exists()
    assert selectors.cp_applications_awaiting_review() == 1
    with pytest.raises(ReasonRequired):
        services.cp_review(cp_id=cp.pk, decision="reject", actor_id=operator().pk, reason=" ")
    services.cp_review(
        cp_id=cp.pk, decision="reject", actor_id=operator().pk, reason="营业执照过期"
    )
    cp.refresh_from_db()
    assert (cp.status, cp.reject_reason) == ("rejected", "营业执照过期")
    with pytest.raises(ReviewRefused):
        services.cp_review(cp_id=cp.pk, decision="suspend", actor_id=operator().pk, reason="x")
    services.cp_review(cp_id=cp.pk, decision="resubmit", actor_id=member.pk)
    services.cp_review(cp_id=cp.pk, decision="approve", actor_id=operator().pk)
    services.cp_review(cp_id=cp.pk, decision="suspend", actor_id=operator().pk, reason="投诉")
    trail = list(AuditEvent.objects.filter(object_type="content_provider", object_id=str(cp.pk))
                 .order_by("id").values_list("action", flat=True))  # fmt: skip
    assert trail == ["content_provider.registered", "content_provider.rejected", "content_provider.pending",
                     "content_provider.approved", "content_provider.suspended"]  # fmt: skip
    assert selectors.cp_applications_awaiting_review() == 0


def test_a_qualification_document_is_kept_and_audited(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cp = _apply()
    doc_id = services.cp_document_add(
        cp_id=cp.pk, title="营业执照", name="licence.pdf", content=b"%PDF-1", actor_id=None
    )
    assert cp.documents.get(pk=doc_id).file.read() == b"%PDF-1"
    assert AuditEvent.objects.filter(action="content_provider.document_added").count() == 1


@pytest.mark.parametrize("price", [0, -100, 1.5, True])
def test_a_product_with_a_price_that_is_not_positive_whole_fen_is_refused_and_nothing_is_written(
    price,
):
    cp = approved_cp()
    with pytest.raises(InvalidPrice) as caught:
        services.product_create(cp_id=cp.pk, actor_id=None, kind="game", title="G", description="",
                                price_fen=price, billing_mode="one_off", billing_code="G1")  # fmt: skip
    assert caught.value.code == "INVALID_PRICE"
    assert ContentProduct.objects.count() == 0


def test_a_cp_not_approved_cannot_propose_products():
    cp = _apply()
    with pytest.raises(ProviderNotApproved):
        services.product_create(cp_id=cp.pk, actor_id=None, kind="game", title="G", description="",
                                price_fen=100, billing_mode="one_off", billing_code="G1")  # fmt: skip
    assert ContentProduct.objects.count() == 0


def test_an_approved_product_is_on_sale_in_the_mall_and_a_rejected_one_shows_its_reason(client):
    cp = approved_cp()
    product = services.product_create(cp_id=cp.pk, actor_id=None, kind="video", title="星际影视VIP",
                                      description="海量大片", price_fen=1500, billing_mode="monthly",
                                      billing_code="V1", trial_days=7)  # fmt: skip
    assert selectors.products_awaiting_review() == 1
    assert product.catalog_product_id is None
    rejected = services.product_review(
        product_id=product.pk, decision="reject", actor_id=operator().pk, reason="封面侵权"
    )
    assert (rejected.status, rejected.reject_reason, rejected.catalog_product_id) == (
        "rejected",
        "封面侵权",
        None,
    )
    services.product_resubmit(
        cp_id=cp.pk, product_id=product.pk, actor_id=operator().pk, changes={"title": "星际VIP"}
    )
    approved = services.product_review(
        product_id=product.pk, decision="approve", actor_id=operator().pk
    )
    listing = Product.objects.get(pk=approved.catalog_product_id)
    assert (listing.status, listing.kind, listing.name, listing.min_price_fen) == (
        "published",
        "digital",
        "星际VIP",
        1500,
    )
    assert listing.category.slug == "video"
    page = client.get(f"/p/{listing.pk}/")
    assert page.status_code == 200 and "星际VIP" in page.content.decode()
    services.product_review(
        product_id=product.pk, decision="suspend", actor_id=operator().pk, reason="下架"
    )
    assert Product.objects.get(pk=listing.pk).status == "archived"


def test_a_price_change_waits_for_review_and_another_cps_product_is_unknown():
    cp, other = approved_cp(), approved_cp()
    product = product_on_sale(cp, price_fen=800)
    with pytest.raises(ProductNotFound):
        services.price_change_propose(
            cp_id=other.pk, product_id=product.pk, price_fen=1, actor_id=operator().pk
        )
    with pytest.raises(InvalidPrice):
        services.price_change_propose(
            cp_id=cp.pk, product_id=product.pk, price_fen=0, actor_id=operator().pk
        )
    services.price_change_propose(
        cp_id=cp.pk, product_id=product.pk, price_fen=1200, actor_id=operator().pk
    )
    assert Sku.objects.get(pk=product.catalog_sku_id).price_fen == 800  # still the old price
    assert selectors.products_awaiting_review() == 1
    refused = services.price_change_review(
        product_id=product.pk, approve=False, actor_id=operator().pk, reason="涨幅过大"
    )
    assert (refused.price_fen, refused.price_reject_reason, refused.proposed_price_fen) == (
        800,
        "涨幅过大",
        None,
    )
    services.price_change_propose(
        cp_id=cp.pk, product_id=product.pk, price_fen=1000, actor_id=operator().pk
    )
    approved = services.price_change_review(
        product_id=product.pk, approve=True, actor_id=operator().pk
    )
    assert approved.price_fen == 1000
    assert ContentProduct.objects.get(pk=product.pk).price_fen == 1000  # the default's mirror
    assert Sku.objects.get(pk=product.catalog_sku_id).price_fen == 1000
    with pytest.raises(ReviewRefused):
        services.price_change_review(product_id=product.pk, approve=True, actor_id=operator().pk)


def test_keys_are_issued_active_then_next_rotated_and_the_secret_is_kept_encrypted():
    cp = approved_cp()
    first = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    second = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    assert (first.slot, second.slot) == ("active", "next")
    assert first.secret not in SigningKey.objects.get(key_id=first.key_id).secret_encrypted
    assert services.cp_key_rotate(cp_id=cp.pk, actor_id=None) == second.key_id
    slots = dict(SigningKey.objects.filter(cp=cp).values_list("key_id", "slot"))
    assert slots == {first.key_id: "retired", second.key_id: "active"}
    with pytest.raises(ReviewRefused):
        services.cp_key_rotate(cp_id=cp.pk, actor_id=None)


def test_the_cover_goes_to_the_mall_listing_when_approved(settings, tmp_path):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(picture, format="PNG")
    cp = approved_cp()
    product = services.product_create(cp_id=cp.pk, actor_id=None, kind="animation", title="封面测试", description="",
                                      price_fen=100, billing_mode="one_off", billing_code="C1",
                                      cover=("cover.png", picture.getvalue()))  # fmt: skip
    assert product.cover.name.endswith(".png")
    approved = services.product_review(
        product_id=product.pk, decision="approve", actor_id=operator().pk
    )
    listing = Product.objects.get(pk=approved.catalog_product_id)
    assert listing.image and listing.thumbnail  # the catalog keeps it in its own sizes


def test_a_suspended_cp_leaves_the_mall_and_comes_back_when_reinstated(client):
    cp = approved_cp()
    on_sale = product_on_sale(cp, price_fen=800)
    withdrawn = product_on_sale(cp, price_fen=900)
    services.product_review(product_id=withdrawn.pk, decision="suspend", actor_id=operator().pk,
                            reason="下架")  # fmt: skip
    listing = Product.objects.get(pk=on_sale.catalog_product_id)
    assert listing.status == "published"

    services.cp_review(cp_id=cp.pk, decision="suspend", actor_id=operator().pk, reason="投诉过多")
    assert Product.objects.get(pk=listing.pk).status == "archived"
    assert client.get(f"/p/{listing.pk}/").status_code == 404

    services.cp_review(cp_id=cp.pk, decision="reinstate", actor_id=operator().pk)
    assert Product.objects.get(pk=listing.pk).status == "published"
    assert Product.objects.get(pk=withdrawn.catalog_product_id).status == "archived"  # its own
