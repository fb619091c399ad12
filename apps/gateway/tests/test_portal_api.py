"""The developer-portal REST API: the same flows as the pages, with the one error body."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.core.crypto import decrypt_text
from apps.gateway.models import App, Credential, Package, Partner, UsageHourly
from apps.gateway.portal import services
from apps.gateway.tests.portal_support import (
    LICENCE,
    OTHER_LICENCE,
    approved_partner,
    company,
    operator,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/developer"


@pytest.fixture
def partner_api(api_client):
    partner = approved_partner()
    api_client.force_authenticate(partner.owner)
    api_client.partner = partner
    return api_client


def test_anonymous_is_refused(api_client):
    response = api_client.get(f"{BASE}/apps/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("UNAUTHENTICATED", "PERMISSION_DENIED")


def test_register_then_read_back(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    assert api_client.get(f"{BASE}/partner/").json()["code"] == "PARTNER_NOT_REGISTERED"
    bad = api_client.post(
        f"{BASE}/partner/", company(licence_number="91350100M000100Y44"), format="json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_LICENCE_NUMBER"
    unknown = api_client.post(f"{BASE}/partner/", {**company(), "vip": True}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "INVALID_ARGUMENT"
    assert Partner.objects.count() == 0
    created = api_client.post(f"{BASE}/partner/", company(), format="json")
    assert created.status_code == 201
    assert created.json()["status"] == "pending" and created.json()["licence_number"] == LICENCE
    again = api_client.post(
        f"{BASE}/partner/", company(licence_number=OTHER_LICENCE), format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "PARTNER_ALREADY_REGISTERED"
    assert api_client.get(f"{BASE}/partner/").json()["company_name"] == "福州示例科技有限公司"
    # Not approved yet: no apps.
    refused = api_client.post(f"{BASE}/apps/", {"name": "A"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "PARTNER_NOT_APPROVED"


def test_app_lifecycle_over_the_api(partner_api):
    created = partner_api.post(
        f"{BASE}/apps/",
        {
            "name": "A",
            "callback_urls": ["https://cb.example.com/x"],
            "ip_allowlist": ["10.0.0.0/8"],
        },
        format="json",
    )
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"
    body = created.json()
    app_id = body["app"]["id"]
    credential = Credential.objects.get(app_id=app_id)
    assert body["credential"]["client_id"] == credential.client_id
    assert body["credential"]["client_secret"] == decrypt_text(credential.secret_encrypted)
    detail = partner_api.get(f"{BASE}/apps/{app_id}/").json()
    assert [c["client_id"] for c in detail["credentials"]] == [credential.client_id]
    assert "client_secret" not in detail["credentials"][0]
    assert detail["credentials"][0]["secret_hint"] == credential.secret_hint

    bad = partner_api.put(
        f"{BASE}/apps/{app_id}/", {"name": "A", "ip_allowlist": ["x"]}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_IP_ALLOW_LIST"
    assert App.objects.get(pk=app_id).ip_allowlist == ["10.0.0.0/8"]
    put = partner_api.put(
        f"{BASE}/apps/{app_id}/", {"name": "B", "callback_urls": []}, format="json"
    )
    assert put.status_code == 200 and put.json()["name"] == "B" and put.json()["ip_allowlist"] == []

    second = partner_api.post(
        f"{BASE}/apps/{app_id}/credentials/", {"environment": "sandbox"}, format="json"
    )
    assert second.status_code == 201 and second.json()["client_secret"]
    third = partner_api.post(
        f"{BASE}/apps/{app_id}/credentials/", {"environment": "sandbox"}, format="json"
    )
    assert third.status_code == 409 and third.json()["code"] == "CREDENTIAL_LIMIT_REACHED"
    revoke = partner_api.post(f"{BASE}/apps/{app_id}/credentials/{second.json()['id']}/revoke/")
    assert revoke.json() == {"revoked": True}
    rotated = partner_api.post(f"{BASE}/apps/{app_id}/credentials/{credential.pk}/rotate/")
    assert rotated.status_code == 201
    assert Credential.objects.filter(app_id=app_id, revoked_at__isnull=True).count() == 2

    prod = partner_api.post(
        f"{BASE}/apps/{app_id}/credentials/", {"environment": "production"}, format="json"
    )
    assert prod.status_code == 403 and prod.json()["code"] == "PRODUCTION_NOT_APPROVED"
    asked = partner_api.post(f"{BASE}/apps/{app_id}/production-request/")
    assert asked.json()["production_status"] == "requested"
    services.app_production_review(app_id=app_id, approve=True, actor_id=operator().pk)
    prod = partner_api.post(
        f"{BASE}/apps/{app_id}/credentials/", {"environment": "production"}, format="json"
    )
    assert prod.status_code == 201 and prod.json()["environment"] == "production"


def test_packages_subscriptions_and_usage(partner_api):
    Package.objects.create(
        code="trial", name="试用", capabilities=["sms"], quota_calls=10, quota_period="day"
    )
    app = services.app_create(user_id=partner_api.partner.owner_id, name="A").app
    assert [p["code"] for p in partner_api.get(f"{BASE}/packages/").json()] == ["trial"]
    sub = partner_api.post(
        f"{BASE}/apps/{app.pk}/subscriptions/", {"package": "trial"}, format="json"
    )
    assert sub.status_code == 201
    [row] = partner_api.get(f"{BASE}/apps/{app.pk}/subscriptions/").json()
    assert row["quota"][0] == {
        "environment": "sandbox", "limit": 10, "used": 0, "remaining": 10,
        "resets_in_seconds": row["quota"][0]["resets_in_seconds"],
    }  # fmt: skip
    missing = partner_api.post(
        f"{BASE}/apps/{app.pk}/subscriptions/", {"package": "gold"}, format="json"
    )
    assert missing.status_code == 404 and missing.json()["code"] == "PACKAGE_NOT_FOUND"
    assert partner_api.delete(f"{BASE}/apps/{app.pk}/subscriptions/trial/").status_code == 204
    assert partner_api.delete(f"{BASE}/apps/{app.pk}/subscriptions/trial/").status_code == 404

    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    for back, calls, errors in [(0, 5, 1), (2, 7, 0)]:
        UsageHourly.objects.create(
            app_id=app.pk, partner_id=app.partner_id, environment="sandbox", capability="sms",
            hour=hour - timedelta(hours=back), calls=calls, errors=errors,
            latency_sum_us=calls * 3000, latency_buckets=[0, 0, calls] + [0] * 10,
        )  # fmt: skip
    usage = partner_api.get(f"{BASE}/apps/{app.pk}/usage/?granularity=hour&periods=3").json()
    assert [p["calls"] for p in usage["points"]] == [7, 0, 5]
    assert [p["avg_latency_ms"] for p in usage["points"]] == [3.0, None, 3.0]
    assert (usage["calls"], usage["errors"]) == (12, 1)
    assert usage["by_capability"] == [
        {
            "capability": "sms",
            "calls": 12,
            "errors": 1,
            "avg_latency_ms": 3.0,
            "p95_latency_ms": 4.85,
        }
    ]
    bad = partner_api.get(f"{BASE}/apps/{app.pk}/usage/?granularity=minute")
    assert bad.status_code == 400


def test_another_companys_app_is_404_everywhere(partner_api):
    stranger = approved_partner(UserFactory(), licence_number=OTHER_LICENCE)
    theirs = services.app_create(user_id=stranger.owner_id, name="theirs")
    app_id, cred = theirs.app.pk, theirs.credential.id
    assert partner_api.get(f"{BASE}/apps/").json() == []
    for method, url in [
        ("get", f"{BASE}/apps/{app_id}/"),
        ("put", f"{BASE}/apps/{app_id}/"),
        ("post", f"{BASE}/apps/{app_id}/production-request/"),
        ("post", f"{BASE}/apps/{app_id}/credentials/"),
        ("post", f"{BASE}/apps/{app_id}/credentials/{cred}/rotate/"),
        ("post", f"{BASE}/apps/{app_id}/credentials/{cred}/revoke/"),
        ("get", f"{BASE}/apps/{app_id}/subscriptions/"),
        ("get", f"{BASE}/apps/{app_id}/usage/"),
    ]:
        body = {"name": "x"} if method == "put" else {"environment": "sandbox"}
        response = (
            getattr(partner_api, method)(
                url, body if url.endswith(("/credentials/", f"{app_id}/")) else None, format="json"
            )
            if method != "get"
            else partner_api.get(url)
        )
        assert response.status_code == 404, url
        assert response.json()["code"] == "APP_NOT_FOUND", url
    assert Credential.objects.filter(app_id=app_id).count() == 1
    assert Credential.objects.get(pk=cred).revoked_at is None


def test_the_schema_lists_the_portal_api(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/v1/developer/apps/{app_id}/credentials/" in paths
    assert "/api/v1/developer/apps/{app_id}/usage/" in paths
    assert "/api/v1/developer/partner/" in paths
