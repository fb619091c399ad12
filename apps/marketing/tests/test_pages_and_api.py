"""The campaign page's claim, the buyer's coupons page and the coupons API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.marketing import services
from apps.marketing.models import Coupon
from apps.marketing.tests.support import campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def _batch(count=2, per_user=1, claimable=True):
    camp = campaign(name="双十一", rule="fixed", amount_fen=500, coupon_only=True)
    now = timezone.now()
    batch = services.coupon_batch_create(
        campaign_id=camp.pk, name="5元券", count=count, per_user_limit=per_user, claimable=claimable,
        valid_from=now - timedelta(hours=1), valid_until=now + timedelta(days=1),
    )  # fmt: skip
    return camp, batch


def test_claim_on_the_campaign_page(client, buyer):
    camp, batch = _batch()
    page = client.get(f"/campaigns/{camp.pk}/")
    assert page.status_code == 200 and "5元券" in page.content.decode()
    client.force_login(buyer)
    client.post(f"/campaigns/{camp.pk}/claim/{batch}/")
    client.post(f"/campaigns/{camp.pk}/claim/{batch}/")  # the limit is one each
    assert Coupon.objects.filter(user_id=buyer.pk).count() == 1
    mine = client.get("/my/coupons/").content.decode()
    assert Coupon.objects.get(user_id=buyer.pk).code in mine
    assert '<p class="hint">已领取 · ' in mine and "claimed" not in mine  # words, not the code


def test_a_draft_campaign_has_no_page(client):
    assert client.get(f"/campaigns/{campaign(status='draft').pk}/").status_code == 404


def test_the_api_claims_adds_codes_and_refuses_clearly(api_client, buyer):
    _camp, batch = _batch(count=3, claimable=False)
    api_client.force_authenticate(buyer)
    # A batch handed out by other means cannot be claimed from the page or the API.
    refused = api_client.post("/api/v1/coupons/claim/", {"batch_id": batch}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (404, "COUPON_NOT_FOUND")
    code = Coupon.objects.filter(batch_id=batch).first().code
    added = api_client.post(
        "/api/v1/coupons/", {"code": f"{code[:4]}-{code[4:8]}-{code[8:]}"}, format="json"
    )
    assert (added.status_code, added.json()["code"], added.json()["status"]) == (
        201,
        code,
        "claimed",
    )
    other = User.objects.create_user("13900139000")
    api_client.force_authenticate(other)
    foreign = api_client.post("/api/v1/coupons/", {"code": code}, format="json")
    assert (foreign.status_code, foreign.json()["code"]) == (409, "COUPON_NOT_YOURS")
    for _ in range(services.GUESSES_PER_HOUR):
        api_client.post("/api/v1/coupons/", {"code": "WRONGWRONG12"}, format="json")
    limited = api_client.post("/api/v1/coupons/", {"code": "WRONGWRONG12"}, format="json")
    assert (limited.status_code, limited.json()["code"]) == (429, "COUPON_TOO_MANY_TRIES")
    assert limited["Retry-After"]
    assert api_client.get("/api/v1/coupons/").json() == []


def test_workbench_issues_a_batch_through_the_service(client):
    camp = campaign(rule="fixed", amount_fen=100, coupon_only=True)
    client.force_login(User.objects.create_superuser("13800000000", "pw"))
    now = timezone.localtime()
    response = client.post("/admin/marketing/couponbatch/add/", {
        "campaign": camp.pk, "name": "工作台券", "per_user_limit": 1, "count": 25, "claimable": "on",
        "valid_from_0": now.strftime("%Y-%m-%d"), "valid_from_1": "00:00:00",
        "valid_until_0": (now + timedelta(days=3)).strftime("%Y-%m-%d"), "valid_until_1": "00:00:00",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Coupon.objects.filter(batch__name="工作台券").count() == 25
