"""A real browser (headless Chromium, Playwright) draws the workbench's charts, with data and for
an empty range, and shows each role its home page. With ``WORKBENCH_SCREENSHOTS=<dir>`` it
saves the screenshots that docs/workbench.md shows."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.analytics import rollups
from apps.analytics.tests.support import at, intent, order
from apps.catalog.tests.factories import small_catalog
from apps.service.models import Ticket
from tests.test_browser import CHROMIUM, browser_page  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian package `chromium`)")
SHOTS = os.environ.get("WORKBENCH_SCREENSHOTS", "")


@pytest.fixture
def desk(browser_page):  # noqa: F811 - the imported fixture
    """The mall's browser fixture, at a desk's width."""
    browser_page.set_viewport_size({"width": 1280, "height": 900})
    browser_page.set_default_timeout(15_000)
    return browser_page


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, client, *roles: str) -> None:
    user_model = get_user_model()
    user = user_model.objects.create_user(f"1370000{user_model.objects.count():04d}", is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.fixture
def two_weeks():
    """Fourteen days of orders (a few a day, two methods, three provinces), rolled up."""
    buyer = get_user_model().objects.create_user("13800000100")
    cat = small_catalog()
    today = timezone.localdate()
    for back in range(14):
        day = (today - timedelta(days=back)).isoformat()
        for n in range(1 + back % 4):
            product = [cat["pack"], cat["vip"], cat["local"]][n % 3]
            order(buyer, [(product, 1 + n)], created=at(day, 9 + n), paid=at(day, 9 + n, 5),
                  method=["alipay", "wechat"][n % 2], province=["广东", "北京", "浙江"][n % 3],
                  delivered_after=[30 * (n + 1)])  # fmt: skip
        if back % 3 == 0:
            ticket = Ticket.objects.create(user=buyer, kind=Ticket.Kind.COMPLAINT, subject="慢")
            Ticket.objects.filter(pk=ticket.pk).update(created_at=at(day, 20))
        intent(f"F{back}", user=buyer, method="unionpay", amount=100, status="failed",
               created=at(day, 8))  # fmt: skip
        rollups.day_rollup(day=today - timedelta(days=back))
    return today


@pytest.mark.django_db(transaction=True)
def test_charts_draw_with_data_and_for_an_empty_range(live_server, desk, client, two_weeks):
    page = desk
    _sign_in(page, live_server, client, "operator")
    start = (two_weeks - timedelta(days=13)).isoformat()
    page.goto(f"{live_server.url}/admin/analytics/overview/?start={start}&end={two_weeks}")
    page.wait_for_selector(".an-chart[data-rendered='1'] canvas")
    assert page.locator(".an-chart canvas").count() == 3
    assert page.locator(".an-chart[data-empty='0']").count() == 3
    # ECharts holds the drawn series: 14 days of GMV, all above zero
    gmv = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"0\"]')).getOption().series[0].data"
    )
    assert len(gmv) == 14 and all(v > 0 for v in gmv)
    _shot(page, "overview")
    for slug in ("sales", "funnel", "payments", "fulfilment", "users"):
        page.goto(f"{live_server.url}/admin/analytics/{slug}/?start={start}&end={two_weeks}")
        page.wait_for_selector(".an-chart[data-rendered='1'] canvas")
        assert (
            page.locator(".an-chart[data-rendered='1']").count()
            == page.locator(".an-chart").count()
        )
        _shot(page, slug)
    # An empty range: every chart is drawn, empty, and says so
    page.goto(f"{live_server.url}/admin/analytics/overview/?start=2020-01-01&end=2020-01-07")
    page.wait_for_selector(".an-chart[data-rendered='1'] canvas")
    assert page.locator(".an-chart[data-empty='1']").count() == 3
    title = page.evaluate(
        "echarts.getInstanceByDom(document.querySelector('[data-chart=\"0\"]')).getOption().title[0].text"
    )
    assert title == "所选时间段无数据"
    _shot(page, "overview-empty")
    # The CSV link downloads the chart's table
    with page.expect_download() as download:
        page.goto(f"{live_server.url}/admin/analytics/overview/?start={start}&end={two_weeks}")
        page.click(".an-chart-box:first-child a:has-text('CSV')")
    assert download.value.suggested_filename == f"gmv_{start}_{two_weeks}.csv"


@pytest.mark.django_db(transaction=True)
def test_each_role_sees_its_home_page(live_server, desk, client, two_weeks):
    page = desk
    for role in ("operator", "finance", "risk", "cp_reviewer", "partner_reviewer"):
        _sign_in(page, live_server, client, role)
        page.goto(f"{live_server.url}/admin/")
        page.wait_for_selector(f"#role-{role}")
        assert page.locator(".wb-section").count() == 1
        _shot(page, f"home-{role}")


@pytest.mark.django_db(transaction=True)
def test_a_bulk_action_asks_before_it_runs(live_server, desk, client):
    from apps.catalog.models import Product

    small_catalog()
    assert set(Product.objects.values_list("status", flat=True)) == {"published"}
    page = desk
    user = get_user_model().objects.create_superuser("13700009999", password="x")
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/admin/catalog/product/")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "unpublish")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("button[name=index]")
    assert asked and "4" in asked[0]
    assert not Product.objects.exclude(status="published").exists()  # dismissed: nothing ran
