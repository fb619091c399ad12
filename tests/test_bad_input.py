"""NUL bytes, deeply nested and oversized JSON: a clear 4xx wherever they arrive, never a 500."""

import json

import pytest

from apps.accounts import services as accounts
from apps.accounts.models import User
from apps.gateway.tests.support import bearer_token, gateway_app_create
from apps.payments.models import PaymentEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def consumer(api_client):
    user = User.objects.create_user("13800138001")
    token, _ = accounts.api_token_issue(user_id=user.pk)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/orders/%00/"),
        ("get", "/api/v1/payments/%00/"),
        ("post", "/api/v1/cards/%00/pin/"),
        ("get", "/api/v1/cards/purchased/?order=%00"),
        ("get", "/api/v1/products/?q=%00"),
    ],
)
def test_nul_in_api_paths_and_queries_is_a_400_with_the_error_body(consumer, method, path):
    response = getattr(consumer, method)(path)
    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"


def test_nul_in_a_json_body_is_a_400(consumer):
    response = consumer.post(
        "/api/v1/cart/lines/",
        data='{"sku": "a\\u0000b", "quantity": 1}',
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("path", ["/search/suggest/?q=%00", "/payments/%00/go/", "/p/%00/"])
def test_nul_on_pages_is_a_plain_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/")


def test_wechat_notification_with_nul_answers_fail_json_and_is_recorded(client):
    response = client.post(
        "/payments/notify/wechat/",
        data=b'{"id": "EV\x00", "resource": {}}',
        content_type="application/json",
    )
    assert response.json()["code"] == "FAIL"
    event = PaymentEvent.objects.get()
    assert (event.method, event.verified, event.outcome.startswith("invalid:")) == (
        "wechat",
        False,
        True,
    )
    assert "\x00" not in event.raw


@pytest.mark.parametrize(("method", "fail"), [("alipay", b"fail"), ("unionpay", b"fail")])
def test_form_notifications_with_nul_answer_fail_and_are_recorded(client, method, fail):
    response = client.post(
        f"/payments/notify/{method}/",
        data="out_trade_no=PI%00&sign=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.content == fail
    event = PaymentEvent.objects.get()
    assert (event.method, event.verified) == (method, False)


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_deeply_nested_json_is_a_400(consumer):
    response = consumer.post(
        "/api/v1/cart/lines/", data=_nested(3000), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"


def test_deeply_nested_json_in_a_string_is_only_text(consumer):
    body = json.dumps({"sku": _nested(3000), "quantity": 1})
    response = consumer.post("/api/v1/cart/lines/", data=body, content_type="application/json")
    assert response.status_code in (400, 404, 409, 422)
    assert response.json()["code"] != "INVALID_ARGUMENT" or "details" in response.json()


def test_oversized_json_is_a_413(consumer, settings):
    settings.JSON_MAX_BODY_BYTES = 1000
    body = json.dumps({"sku": "x" * 2000, "quantity": 1})
    response = consumer.post("/api/v1/cart/lines/", data=body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_deeply_nested_json_on_a_capability_is_a_400(client):
    app = gateway_app_create()
    token = bearer_token(client_id=app.client_id, secret=app.secret)
    response = client.post(
        "/sim-swap/v2/check",
        data=_nested(3000),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ARGUMENT")
