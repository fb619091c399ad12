"""From registration to a signed call seen in the usage figures, over the portal's API."""

import json

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.gateway import metering
from apps.gateway.models import Package
from apps.gateway.portal import services
from apps.gateway.tests.portal_support import company, operator
from apps.gateway.tests.support import signed_headers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("apps.gateway.tests.portal_e2e_urls"),
]
API = "/api/v1/developer"


def _signed_check(client_id, secret, phone="+8613800138000"):
    body = json.dumps({"phoneNumber": phone}).encode()
    headers = signed_headers(
        client_id=client_id,
        secret=secret,
        method="POST",
        target="/test-sim-swap/v1/check",
        body=body,
    )
    return Client().post(
        "/test-sim-swap/v1/check", data=body, content_type="application/json", headers=headers
    )


def test_register_approve_create_subscribe_call_and_see_usage(api_client):
    Package.objects.create(
        code="sandbox-trial", name="试用", capabilities=["sim-swap", "sms"], quota_calls=1000,
        quota_period="day",
    )  # fmt: skip
    user = UserFactory()
    api_client.force_authenticate(user)
    assert api_client.post(f"{API}/partner/", company(), format="json").status_code == 201
    partner_id = api_client.get(f"{API}/partner/").json()["id"]
    services.partner_review(partner_id=partner_id, approve=True, actor_id=operator().pk)

    created = api_client.post(f"{API}/apps/", {"name": "风控服务"}, format="json").json()
    app_id = created["app"]["id"]
    client_id, secret = created["credential"]["client_id"], created["credential"]["client_secret"]
    # No package yet: the gateway refuses the call.
    assert _signed_check(client_id, secret).status_code == 403
    api_client.post(
        f"{API}/apps/{app_id}/subscriptions/", {"package": "sandbox-trial"}, format="json"
    )

    ok = _signed_check(client_id, secret)
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"swapped": False, "appId": app_id}
    assert _signed_check(client_id, secret, phone="+8613900000404").status_code == 404
    metering.meter_flush()
    metering.meter_drain()

    usage = api_client.get(f"{API}/apps/{app_id}/usage/?granularity=hour&periods=2").json()
    assert (usage["calls"], usage["errors"]) == (2, 1)
    assert [(c["capability"], c["calls"], c["errors"]) for c in usage["by_capability"]] == [
        ("sim-swap", 2, 1)
    ]
    [sub] = api_client.get(f"{API}/apps/{app_id}/subscriptions/").json()
    sandbox = next(q for q in sub["quota"] if q["environment"] == "sandbox")
    assert (sandbox["used"], sandbox["remaining"]) == (2, 998)

    # Revoked in the portal: the very next signed call is refused.
    credential_id = created["credential"]["id"]
    api_client.post(f"{API}/apps/{app_id}/credentials/{credential_id}/revoke/")
    assert _signed_check(client_id, secret).status_code == 401
