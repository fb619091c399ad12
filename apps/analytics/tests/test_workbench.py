"""The workbench home page per role, the analytics pages' access, range and downloads."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from openpyxl import load_workbook

from apps.analytics import rollups
from apps.analytics.tests.support import at, intent, order
from apps.catalog.tests.factories import small_catalog
from apps.core import workbench
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()


def staff(client, *roles: str, superuser: bool = False):
    user_model = get_user_model()
    user = user_model.objects.create_user(f"1390000{user_model.objects.count():04d}", is_staff=True,
                                    is_superuser=superuser)  # fmt: skip
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def test_each_workbench_role_is_a_group_with_permissions():
    for name in ("operator", "finance", "risk", "cp_reviewer", "partner_reviewer"):
        assert Group.objects.filter(name=name).exists()
    codenames = set(
        Group.objects.get(name="partner_reviewer").permissions.values_list("codename", flat=True)
    )
    assert {"view_partner", "change_partner", "change_app"} <= codenames
    assert "change_refund" not in codenames


def test_finance_sees_only_the_finance_section_with_its_counts(client):
    # Given a refund waiting for approval
    user = get_user_model().objects.create_user("13800000009")
    cat = small_catalog()
    o = order(user, [(cat["vip"], 1)], created=at("2026-11-03", 9), paid=at("2026-11-03", 9, 5))
    from apps.payments.models import PaymentIntent

    Refund.objects.create(public_id="R9", intent=PaymentIntent.objects.get(reference=o.number),
                          amount_fen=1500, reason="x", request_key="r9")  # fmt: skip
    staff(client, "finance")
    # When finance opens the workbench
    page = client.get("/admin/")
    html = page.content.decode()
    # Then the finance section shows one refund to approve, and no other role's section
    assert page.status_code == 200
    assert 'id="role-finance"' in html
    for other in ("operator", "risk", "cp_reviewer", "partner_reviewer"):
        assert f'id="role-{other}"' not in html
    todos = {s.key: s.value for s in workbench.todos_for("finance")}
    assert todos["payments.refunds_to_approve"] == 1
    assert 'data-todo="payments.refunds_to_approve"' in html
    assert "/admin/payments/refund/?status__exact=requested" in html
    assert 'data-todo="fulfilment.orders_to_ship"' not in html


def test_a_superuser_sees_every_section(client):
    staff(client, superuser=True)
    html = client.get("/admin/").content.decode()
    for role in ("operator", "finance", "risk", "cp_reviewer", "partner_reviewer"):
        assert f'id="role-{role}"' in html


def test_a_staff_member_without_a_role_sees_no_section(client):
    staff(client)
    html = client.get("/admin/").content.decode()
    assert 'class="wb-section"' not in html
    assert "wb-none" in html


@pytest.mark.parametrize("path", ["/admin/analytics/funnel/", "/admin/analytics/fulfilment/",
                                  "/admin/fulfilment/delivery/", "/admin/core/deadletter/"])  # fmt: skip
def test_finance_cannot_open_operator_only_pages(client, path):
    staff(client, "finance")
    assert client.get(path).status_code == 403


def test_operator_opens_the_operator_pages(client):
    staff(client, "operator")
    for slug in ("overview", "sales", "funnel", "payments", "fulfilment", "gateway", "users"):
        assert client.get(f"/admin/analytics/{slug}/").status_code == 200, slug


def test_a_count_that_fails_shows_a_dash_not_an_error(client):
    def broken() -> int:
        raise RuntimeError("down")

    workbench.register_todo("test.broken", "坏的", broken, "/admin/", {"finance"})
    try:
        staff(client, "finance")
        html = client.get("/admin/").content.decode()
        assert 'data-todo="test.broken"' in html
        assert [s.value for s in workbench.todos_for("finance") if s.key == "test.broken"] == [None]
    finally:
        workbench._todos.pop("test.broken")


@pytest.fixture
def rolled_up():
    user = get_user_model().objects.create_user("13800000010")
    cat = small_catalog()
    order(user, [(cat["pack"], 2)], created=at("2026-11-03", 9), paid=at("2026-11-03", 9, 5),
          method="alipay", province="广东", delivered_after=[30])  # fmt: skip
    intent(
        "X1", user=user, method="wechat", amount=100, status="failed", created=at("2026-11-03", 9)
    )
    rollups.day_rollup(day=date(2026, 11, 3))


def test_the_overview_page_renders_the_range_as_chart_data(client, rolled_up):
    staff(client, "finance")
    page = client.get("/admin/analytics/overview/?start=2026-11-02&end=2026-11-04")
    assert page.status_code == 200
    charts = {c["key"]: c for c in page.context["charts_json"]}
    assert charts["gmv"]["x"] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert charts["gmv"]["series"][0]["values"] == [None, 60.0, None]
    assert 'id="analytics-charts"' in page.content.decode()


def test_a_reversed_range_is_a_form_error_and_the_default_range_is_shown(client, rolled_up):
    staff(client, "finance")
    page = client.get("/admin/analytics/overview/?start=2026-11-04&end=2026-11-02")
    assert page.status_code == 200
    assert page.context["form"].errors["__all__"][0] == "开始日期晚于结束日期。"


def test_a_chart_downloads_as_csv_and_xlsx(client, rolled_up):
    staff(client, "finance")
    base = "/admin/analytics/payments/?start=2026-11-03&end=2026-11-03&download=payments-methods"
    text = client.get(base + "&format=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [["支付宝", "1", "1", "0"], ["微信支付", "1", "0", "1"]]
    book = load_workbook(io.BytesIO(client.get(base + "&format=xlsx").content))
    sheet = book.active
    assert [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        ["支付宝", 1, 1, 0], ["微信支付", 1, 0, 1],
    ]  # fmt: skip
    assert client.get(base.replace("payments-methods", "nope") + "&format=csv").status_code == 404


def test_the_view_beacon_counts_without_a_session(client):
    from apps.analytics import views_counter
    from apps.analytics.models import ProductViewDaily

    assert client.post("/a/view/42").status_code == 204
    assert client.get("/a/view/42").status_code == 405
    views_counter.views_flush()
    assert ProductViewDaily.objects.get(product_id=42).views >= 1


def test_the_sales_page_shows_the_hours_of_the_day(client, rolled_up):
    staff(client, "finance")
    page = client.get("/admin/analytics/sales/?start=2026-11-03&end=2026-11-03")
    hours = next(c for c in page.context["charts_json"] if c["key"] == "sales-hours")
    assert hours["x"][9] == "09:00"
    assert hours["series"][0]["values"][9] == 60.0  # ¥60.00 paid at 09:05
    assert sum(hours["series"][1]["values"]) == 1


def test_one_address_counts_a_bounded_number_of_views(client, monkeypatch):
    from django.utils import timezone

    from apps.analytics import views, views_counter
    from apps.core.redis import get_redis

    get_redis().delete(views_counter._key(timezone.localdate()))
    monkeypatch.setattr(views, "VIEWS_PER_ADDRESS_MINUTE", 3)
    answers = [client.post("/a/view/7", REMOTE_ADDR="192.0.2.9").status_code for _ in range(5)]
    assert answers == [204, 204, 204, 429, 429]
    assert get_redis().hget(views_counter._key(timezone.localdate()), "7") == b"3"


def test_the_home_page_shows_todays_key_figures_from_the_rollup(client):
    import re

    from django.utils import timezone

    # Given today: one order of 2 data packs paid (¥60.00) and delivered, and a new buyer
    today = timezone.localdate().isoformat()
    user = get_user_model().objects.create_user("13800000011")
    cat = small_catalog()
    order(user, [(cat["pack"], 2)], created=at(today, 0, 1), paid=at(today, 0, 2),
          method="alipay", delivered_after=[30])  # fmt: skip
    rollups.day_rollup(day=timezone.localdate())
    # When finance and an operator open the workbench
    staff(client, "finance")
    html = client.get("/admin/").content.decode()

    def figure(key: str) -> str:
        found = re.search(
            rf'data-figure="{key}">\s*<a href="[^"]*"><span class="wb-count">([^<]*)<', html
        )
        assert found, key
        return found.group(1)

    # Then the figures are the rollup's, in yuan where they are money
    assert (figure("analytics.gmv"), figure("analytics.paid_orders")) == ("¥60.00", "1")
    assert figure("analytics.refund_fen") == "¥0.00"
    assert 'data-figure="analytics.product_views"' not in html  # an operator's figure
    staff(client, "operator")
    html = client.get("/admin/").content.decode()
    assert figure("analytics.new_users") == "1"
