"""The `back` parameter of the payment pages only ever leads to a path on this site."""

import pytest

from apps.accounts.models import User
from apps.payments.models import PaymentIntent
from apps.payments.tests.test_carrier_billing import _code, _start

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(carrier_sandbox):
    carrier_sandbox.put_subscriber("+8613800138555", status="active", balance_fen=10_000)
    return User.objects.create_user("13800138555")


@pytest.mark.parametrize(
    "back",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_confirm_never_redirects_off_site(carrier_sandbox, buyer, client, back):
    intent = _start(buyer, 300)
    client.force_login(buyer)
    response = client.post(
        f"/payments/{intent.public_id}/carrier-confirm/?back={back}",
        {"code": _code(carrier_sandbox)},
    )
    assert PaymentIntent.objects.get().status == "succeeded"
    assert (response.status_code, response["Location"]) == (302, "/")


def test_confirm_follows_a_relative_back(carrier_sandbox, buyer, client):
    intent = _start(buyer, 300)
    client.force_login(buyer)
    response = client.post(
        f"/payments/{intent.public_id}/carrier-confirm/?back=/orders/7/",
        {"code": _code(carrier_sandbox)},
    )
    assert response["Location"] == "/orders/7/"


def test_go_page_does_not_link_to_javascript(carrier_sandbox, buyer, client):
    intent = _start(buyer, 300)
    client.force_login(buyer)
    client.post(f"/payments/{intent.public_id}/carrier-confirm/", {"code": _code(carrier_sandbox)})
    page = client.get(f"/payments/{intent.public_id}/go/?back=javascript:alert(1)")
    assert page.status_code == 200
    assert b'href="javascript:' not in page.content
    assert b'href="/"' in page.content
