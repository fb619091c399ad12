"""Price points: several prices per product, each with its billing code, each new one and each
price change reviewed; named by the CP's API, chosen on the mall's product page and on the
hosted pay page; the old single price migrated into a default price point."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.accounts.models import User
from apps.catalog.models import Sku
from apps.content import selectors, services
from apps.content.errors import (
    BillingCodeTaken,
    InvalidPrice,
    PricePointNotFound,
    ProductNotFound,
    ReasonRequired,
    ReviewRefused,
)
from apps.content.models import Charge, ContentProduct, PricePoint
from apps.content.tests.support import approved_cp, operator, product_on_sale
from apps.content.tests.test_api import CpClient
from tests.fixtures.sandbox_support import unique_msisdn


def _approved_point(product, *, label: str, price_fen: int, code: str) -> PricePoint:
    point = services.price_point_add(cp_id=product.cp_id, product_id=product.pk, actor_id=None,
                                     label=label, price_fen=price_fen, billing_code=code)  # fmt: skip
    services.price_point_review(price_point_id=point.pk, approve=True, actor_id=operator().pk)
    return PricePoint.objects.get(pk=point.pk)


@pytest.mark.django_db
def test_a_product_is_made_with_its_default_price_point_reviewed_with_it():
    cp = approved_cp()
    product = services.product_create(cp_id=cp.pk, actor_id=None, kind="reading", title="书", description="",
                                      price_fen=20, billing_mode="per_chapter", billing_code="R-1")  # fmt: skip
    point = PricePoint.objects.get(product=product)
    assert (point.label, point.price_fen, point.billing_code, point.is_default, point.status) == (
        "单章", 20, "R-1", True, "pending",
    )  # fmt: skip
    assert selectors.price_changes_pending_review() == 0  # reviewed with its product
    with pytest.raises(ReviewRefused):
        services.price_point_review(price_point_id=point.pk, approve=True, actor_id=operator().pk)
    services.product_review(product_id=product.pk, decision="approve", actor_id=operator().pk)
    assert PricePoint.objects.get(pk=point.pk).status == "approved"
    with pytest.raises(ReviewRefused):  # the default stays on sale with its product
        services.price_point_set_active(
            cp_id=cp.pk, price_point_id=point.pk, active=False, actor_id=None
        )


@pytest.mark.django_db
def test_a_new_price_point_waits_for_review_and_a_rejection_shows_its_reason():
    cp, other = approved_cp(), approved_cp()
    product = product_on_sale(cp, price_fen=500, kind="video")
    with pytest.raises(InvalidPrice):
        services.price_point_add(cp_id=cp.pk, product_id=product.pk, actor_id=None, label="全本",
                                 price_fen=0, billing_code="X")  # fmt: skip
    with pytest.raises(ProductNotFound):
        services.price_point_add(cp_id=other.pk, product_id=product.pk, actor_id=None, label="全本",
                                 price_fen=900, billing_code="X")  # fmt: skip
    with pytest.raises(BillingCodeTaken):
        services.price_point_add(cp_id=cp.pk, product_id=product.pk, actor_id=None, label="全本",
                                 price_fen=900, billing_code=product.billing_code)  # fmt: skip
    assert PricePoint.objects.filter(product=product).count() == 1  # nothing written
    point = services.price_point_add(cp_id=cp.pk, product_id=product.pk, actor_id=None,
                                     label="全本", price_fen=900, billing_code="V-ALL")  # fmt: skip
    assert (point.status, point.sellable, selectors.price_changes_pending_review()) == (
        "pending",
        False,
        1,
    )
    with pytest.raises(ReasonRequired):
        services.price_point_review(price_point_id=point.pk, approve=False, actor_id=operator().pk)
    rejected = services.price_point_review(price_point_id=point.pk, approve=False,
                                           actor_id=operator().pk, reason="定价不合理")  # fmt: skip
    assert (rejected.status, rejected.reject_reason) == ("rejected", "定价不合理")
    with pytest.raises(ReviewRefused):  # decided already
        services.price_point_review(price_point_id=point.pk, approve=True, actor_id=operator().pk)
    assert selectors.price_changes_pending_review() == 0
    assert Sku.objects.filter(product_id=product.catalog_product_id).count() == 1  # not in the mall


@pytest.mark.django_db
def test_an_approved_price_point_is_a_sku_on_the_mall_page_and_its_price_change_is_reviewed(client):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=500, kind="video")
    point = _approved_point(product, label="包季", price_fen=1200, code="V-Q")
    sku = Sku.objects.get(pk=point.catalog_sku_id)
    assert (sku.product_id, sku.name, sku.price_fen, sku.is_active) == (
        product.catalog_product_id,
        "包季",
        1200,
        True,
    )
    page = client.get(f"/p/{product.catalog_product_id}/").content.decode()
    assert (
        "包季" in page
        and f'value="{sku.pk}"' in page
        and f'value="{product.catalog_sku_id}"' in page
    )

    services.price_change_propose(cp_id=cp.pk, product_id=product.pk, price_point_id=point.pk,
                                  price_fen=1500, actor_id=None)  # fmt: skip
    assert Sku.objects.get(pk=sku.pk).price_fen == 1200  # the old price until approved
    assert selectors.price_changes_pending_review() == 1
    services.price_change_review(price_point_id=point.pk, approve=True, actor_id=operator().pk)
    assert Sku.objects.get(pk=sku.pk).price_fen == 1500
    assert ContentProduct.objects.get(pk=product.pk).price_fen == 500  # the default's is unchanged

    services.price_point_set_active(
        cp_id=cp.pk, price_point_id=point.pk, active=False, actor_id=None
    )
    assert Sku.objects.get(pk=sku.pk).is_active is False
    with pytest.raises(PricePointNotFound):  # another CP's price point
        services.price_point_set_active(cp_id=approved_cp().pk, price_point_id=point.pk, active=True,
                                        actor_id=None)  # fmt: skip


@pytest.fixture
def cp_api(carrier_sandbox):
    cp = approved_cp(share_bp=7000)
    product = product_on_sale(cp, price_fen=20, mode="one_off", kind="reading")
    whole = _approved_point(product, label="全本", price_fen=800, code="R-ALL")
    key = services.cp_key_issue(cp_id=cp.pk, actor_id=None)
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    return cp, product, whole, CpClient(key.key_id, key.secret), msisdn


@pytest.mark.django_db(transaction=True)
def test_the_api_names_a_price_point_by_id_or_billing_code_or_only_the_product(cp_api):
    _cp, product, whole, client, msisdn = cp_api
    url = "/api/v1/content/charges/"
    by_code = client.post(
        url, {"billing_code": "R-ALL", "phone_number": msisdn, "cp_order_id": "P-1"}
    )
    by_id = client.post(url, {"product_id": product.pk, "price_point_id": whole.pk, "phone_number": msisdn,
                              "cp_order_id": "P-2"})  # fmt: skip
    default = client.post(
        url, {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "P-3"}
    )
    got = [
        (a.status_code, a.json()["amount_fen"], a.json()["billing_code"])
        for a in (by_code, by_id, default)
    ]
    assert got == [(201, 800, "R-ALL"), (201, 800, "R-ALL"), (201, 20, product.billing_code)]
    assert by_code.json()["product_id"] == product.pk
    # The same order id naming another price point is a conflict, not a second charge.
    again = client.post(
        url, {"product_id": product.pk, "phone_number": msisdn, "cp_order_id": "P-1"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "CONFLICT")
    assert client.get("/api/v1/content/products/").json()["products"][0]["price_points"] == [
        {"price_point_id": whole.product.price_points.get(is_default=True).pk, "label": "全本",
         "price_fen": 20, "billing_code": product.billing_code, "default": True},
        {"price_point_id": whole.pk, "label": "全本", "price_fen": 800, "billing_code": "R-ALL", "default": False},
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_an_unknown_or_unapproved_price_point_gets_a_clear_error_and_changes_nothing(cp_api):
    cp, product, _whole, client, msisdn = cp_api
    services.price_point_add(cp_id=cp.pk, product_id=product.pk, actor_id=None, label="包月",
                                       price_fen=1500, billing_code="R-M")  # fmt: skip
    theirs = product_on_sale(approved_cp())
    off = _approved_point(product, label="旧价", price_fen=600, code="R-OLD")
    services.price_point_set_active(cp_id=cp.pk, price_point_id=off.pk, active=False, actor_id=None)
    url = "/api/v1/content/charges/"
    answers = {
        "unknown_code": {"billing_code": "NOPE"},
        "unknown_id": {"product_id": product.pk, "price_point_id": 999_999},
        "other_product": {"product_id": theirs.pk, "billing_code": "R-ALL"},
        "theirs_code": {"billing_code": theirs.billing_code},
        "pending": {"billing_code": "R-M"},
        "off_sale": {"price_point_id": off.pk},
    }
    got = {}
    for name, named in answers.items():
        answer = client.post(url, {**named, "phone_number": msisdn, "cp_order_id": name})
        got[name] = (answer.status_code, answer.json()["code"])
    assert got == {"unknown_code": (404, "PRICE_POINT_NOT_FOUND"), "unknown_id": (404, "PRICE_POINT_NOT_FOUND"),
                   "other_product": (404, "PRODUCT_NOT_FOUND"), "theirs_code": (404, "PRICE_POINT_NOT_FOUND"),
                   "pending": (409, "PRICE_POINT_NOT_ON_SALE"), "off_sale": (409, "PRICE_POINT_NOT_ON_SALE")}  # fmt: skip
    assert Charge.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_subscriber_picks_a_price_point_on_the_pay_page_until_paying(carrier_sandbox, client):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=20, kind="game")
    whole = _approved_point(product, label="全本", price_fen=800, code="G-ALL")
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    charge = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                    cp_order_id="W-1", channel="web")  # fmt: skip
    client.force_login(User.objects.get(phone=msisdn))
    page = client.get(f"/pay/content/{charge.pk}/").content.decode()
    assert 'data-testid="price-points"' in page and "全本" in page

    chosen = client.post(
        f"/pay/content/{charge.pk}/", {"method": "carrier_billing", "price_point": whole.pk}
    )
    assert chosen.status_code == 302 and chosen["Location"] == f"/pay/content/{charge.pk}/"
    after = Charge.objects.get(pk=charge.pk)
    assert (after.price_point_id, after.amount_fen, after.intent_public_id) == (whole.pk, 800, "")
    client.post(
        f"/pay/content/{charge.pk}/", {"method": "carrier_billing", "price_point": whole.pk}
    )
    assert Charge.objects.get(pk=charge.pk).intent_public_id  # the payment started at 800
    default = product.price_points.get(is_default=True)
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the domain error's code is checked
        services.charge_price_point_choose(charge_id=charge.pk, user_id=charge.user_id,
                                           price_point_id=default.pk)  # fmt: skip
    assert refused.value.code == "CHARGE_STATE_CONFLICT"
    assert Charge.objects.get(pk=charge.pk).amount_fen == 800


@pytest.mark.django_db(transaction=True)
def test_a_price_point_id_out_of_range_on_the_pay_page_is_a_form_error(carrier_sandbox, client):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=20, kind="game")
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    charge = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                    cp_order_id="W-BIG", channel="web")  # fmt: skip
    client.force_login(User.objects.get(phone=msisdn))
    for chosen in ("99999999999999999999999", "9223372036854775808", "-1", "x"):
        answer = client.post(
            f"/pay/content/{charge.pk}/", {"method": "carrier_billing", "price_point": chosen}
        )
        assert answer.status_code == 302
        page = client.get(f"/pay/content/{charge.pk}/").content.decode()
        assert "请选择价格" in page or "Choose a price." in page, chosen
    after = Charge.objects.get(pk=charge.pk)
    assert (after.amount_fen, after.intent_public_id) == (20, "")


@pytest.mark.django_db(transaction=True)
def test_a_price_point_risk_would_review_is_refused_with_no_hold_left(carrier_sandbox):
    from apps.risk.errors import RiskBlocked
    from apps.risk.models import Hold
    from apps.risk.tests.support import active_rule

    cp = approved_cp()
    product = product_on_sale(cp, price_fen=20, kind="game")
    whole = _approved_point(product, label="全本", price_fen=800, code="G-RV")
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    charge = services.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                    cp_order_id="W-RV", channel="web")  # fmt: skip
    active_rule("big-point", "amount_fen >= 500", outcome="review", kinds=["content_charge"])
    with pytest.raises(RiskBlocked) as refused:
        services.charge_price_point_choose(charge_id=charge.pk, user_id=charge.user_id,
                                           price_point_id=whole.pk)  # fmt: skip
    assert refused.value.details.get("review") == "unholdable"
    assert "price" in str(refused.value.message).lower() or "价格" in str(refused.value.message)
    after = Charge.objects.get(pk=charge.pk)
    assert (after.status, after.amount_fen, after.price_point_id) == (
        "pending",
        20,
        charge.price_point_id,
    )
    assert not Hold.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_each_products_price_its_default_price_point():
    executor = MigrationExecutor(connection)
    executor.migrate([("content", "0004_complaints")])
    old = executor.loader.project_state([("content", "0004_complaints")]).apps
    cp_model, product_model = (
        old.get_model("content", "ContentProvider"),
        old.get_model("content", "ContentProduct"),
    )
    charge_model = old.get_model("content", "Charge")
    cp = cp_model.objects.create(name="CP", licence_number="M-1", bank_account="1", contact_name="a",
                                 contact_phone="1", status="approved")  # fmt: skip
    on_sale = product_model.objects.create(cp=cp, kind="music", title="包月", price_fen=800, billing_mode="monthly",
                                           billing_code="M-1", status="approved", proposed_price_fen=900)  # fmt: skip
    waiting = product_model.objects.create(cp=cp, kind="game", title="新", price_fen=600, billing_mode="one_off",
                                           billing_code="M-2", status="pending")  # fmt: skip
    charge_model.objects.create(id="CCMIG1", cp=cp, product=on_sale, user_id=1, msisdn="+8613700000000",
                                amount_fen=800, channel="in_app", cp_order_id="mig-1", status="succeeded")  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    points = {p.product_id: p for p in PricePoint.objects.all()}
    assert (points[on_sale.pk].label, points[on_sale.pk].price_fen, points[on_sale.pk].billing_code,
            points[on_sale.pk].status, points[on_sale.pk].proposed_price_fen, points[on_sale.pk].is_default) == (
        "包月", 800, "M-1", "approved", 900, True)  # fmt: skip
    assert (points[waiting.pk].label, points[waiting.pk].status) == ("全本", "pending")
    assert Charge.objects.get(pk="CCMIG1").price_point_id == points[on_sale.pk].pk


@pytest.mark.django_db
def test_the_cp_adds_a_price_point_in_the_console_and_reads_the_workbenchs_rejection(client):
    cp = approved_cp()
    product = product_on_sale(cp, price_fen=500, kind="video")
    member = User.objects.get(pk=cp.members.get().user_id)
    client.force_login(member)
    refused = client.post(f"/cp/products/{product.pk}/price-points/new/",
                          {"label": "全本", "price_fen": -1, "billing_code": "C-1"})  # fmt: skip
    assert refused.status_code == 200 and PricePoint.objects.filter(product=product).count() == 1
    client.post(f"/cp/products/{product.pk}/price-points/new/",
                {"label": "包季", "price_fen": 1200, "billing_code": "C-1"})  # fmt: skip
    point = PricePoint.objects.get(billing_code="C-1")
    staff = User.objects.create_superuser("+8613900009995", password="x")
    client.force_login(staff)
    waiting = client.get("/admin/content/pricepoint/?review=waiting").content.decode()
    assert "C-1" in waiting and product.billing_code not in waiting  # the default is not waiting
    client.post("/admin/content/pricepoint/", {"action": "reject", "apply": "1", "reason": "价格偏高",
                                               helpers.ACTION_CHECKBOX_NAME: [point.pk]})  # fmt: skip
    assert PricePoint.objects.values_list("status", "reject_reason").get(pk=point.pk) == (
        "rejected",
        "价格偏高",
    )
    client.force_login(member)
    console = client.get("/cp/").content.decode()
    assert "包季" in console and "价格偏高" in console
