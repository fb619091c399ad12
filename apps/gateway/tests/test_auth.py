"""Authentication of capability calls: HMAC signatures, OAuth2 tokens, allow-lists, rotation."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.gateway import services
from apps.gateway.models import App, Partner
from apps.gateway.tests.support import (
    bearer_token,
    gateway_app_create,
    signed_headers,
)
from apps.gateway.tests.views import PERFORMED

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.gateway.tests.urls")]

CHECK = "/test-sim-swap/v1/check"
BODY = {"phoneNumber": "+8613800000000"}


@pytest.fixture(autouse=True)
def _no_performed():
    PERFORMED.clear()


def _post_signed(client, app, body=BODY, *, target=CHECK, sign_body=None, **overrides):
    raw = json.dumps(body).encode()
    headers = signed_headers(
        client_id=overrides.pop("client_id", app.client_id),
        secret=overrides.pop("secret", app.secret),
        method="POST",
        target=overrides.pop("sign_target", target),
        body=raw if sign_body is None else sign_body,
        **overrides,
    )
    return client.post(target, data=raw, content_type="application/json", headers=headers)


def _assert_refused(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert PERFORMED == []


# --- HMAC signatures ---------------------------------------------------------------------


def test_a_signed_call_is_admitted_and_performed(client):
    app = gateway_app_create()
    response = _post_signed(client, app)
    assert response.status_code == 200
    assert response.json() == {"swapped": False, "appId": app.app_id}
    assert PERFORMED == [{"view": "check", **BODY}]


def test_a_wrong_secret_is_refused(client):
    app = gateway_app_create()
    _assert_refused(_post_signed(client, app, secret="x" * 43), 401, "UNAUTHENTICATED")


def test_a_tampered_body_is_refused(client):
    app = gateway_app_create()
    signed_for = json.dumps({"phoneNumber": "+8613800000001"}).encode()
    _assert_refused(_post_signed(client, app, sign_body=signed_for), 401, "UNAUTHENTICATED")


def test_a_signature_for_another_path_is_refused(client):
    app = gateway_app_create()
    response = _post_signed(client, app, sign_target=CHECK + "?x=1")
    _assert_refused(response, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_date_outside_300_seconds_is_refused(client, skew):
    app = gateway_app_create()
    response = _post_signed(client, app, date=int(time.time()) + skew)
    _assert_refused(response, 401, "UNAUTHENTICATED")
    assert "window" in response.json()["message"] or "时间" in response.json()["message"]


def test_a_date_inside_the_window_is_admitted(client):
    app = gateway_app_create()
    assert _post_signed(client, app, date=int(time.time()) - 290).status_code == 200


def test_a_replayed_request_is_refused_and_not_counted(client):
    app = gateway_app_create(quota_calls=10)
    raw = json.dumps(BODY).encode()
    headers = signed_headers(
        client_id=app.client_id, secret=app.secret, method="POST", target=CHECK, body=raw
    )
    first = client.post(CHECK, data=raw, content_type="application/json", headers=headers)
    again = client.post(CHECK, data=raw, content_type="application/json", headers=headers)
    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json()["code"] == "UNAUTHENTICATED"
    assert len(PERFORMED) == 1
    assert first["Quota-Remaining"] == "9"
    # The replay used no quota: the next fresh call sees 8 left.
    assert _post_signed(client, app)["Quota-Remaining"] == "8"


def test_an_unknown_client_and_a_malformed_header_are_refused(client):
    app = gateway_app_create()
    _assert_refused(_post_signed(client, app, client_id="chsb_nobody"), 401, "UNAUTHENTICATED")
    response = client.post(
        CHECK,
        data=json.dumps(BODY),
        content_type="application/json",
        headers={"Authorization": "CH-HMAC-SHA256 nonsense"},
    )
    _assert_refused(response, 401, "UNAUTHENTICATED")
    response = client.post(CHECK, data=json.dumps(BODY), content_type="application/json")
    _assert_refused(response, 401, "UNAUTHENTICATED")


def test_a_malformed_nonce_is_refused(client):
    app = gateway_app_create()
    _assert_refused(_post_signed(client, app, nonce="short"), 401, "UNAUTHENTICATED")


# --- tokens ------------------------------------------------------------------------------


def _token_request(client, data, *, basic=None):
    headers = {}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    return client.post("/oauth2/token", data=data, headers=headers)


def test_token_carries_the_subscribed_scopes_and_opens_the_capability(client):
    app = gateway_app_create(capabilities=["sim-swap"])
    response = _token_request(
        client, {"grant_type": "client_credentials"}, basic=f"{app.client_id}:{app.secret}"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "sim-swap:check sim-swap:retrieve-date"
    assert response["Cache-Control"] == "no-store"
    call = client.post(
        CHECK,
        BODY,
        content_type="application/json",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert call.status_code == 200


def test_client_authentication_in_the_body_works(client):
    app = gateway_app_create()
    response = _token_request(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": app.client_id,
            "client_secret": app.secret,
            "scope": "sim-swap:check",
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "sim-swap:check"


def test_token_errors_follow_rfc_6749(client):
    app = gateway_app_create(capabilities=["sim-swap"])
    basic = f"{app.client_id}:{app.secret}"
    wrong = _token_request(
        client, {"grant_type": "client_credentials"}, basic=f"{app.client_id}:no"
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    grant = _token_request(client, {"grant_type": "password"}, basic=basic)
    assert grant.json()["error"] == "unsupported_grant_type"
    scope = _token_request(
        client, {"grant_type": "client_credentials", "scope": "sms:send"}, basic=basic
    )
    assert scope.status_code == 400
    assert scope.json()["error"] == "invalid_scope"


def test_a_token_without_the_views_scope_is_refused(client):
    app = gateway_app_create(capabilities=["sim-swap"])
    token = bearer_token(client_id=app.client_id, secret=app.secret, scope="sim-swap:retrieve-date")
    response = client.post(
        CHECK, BODY, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    _assert_refused(response, 403, "PERMISSION_DENIED")


def test_an_unknown_token_is_refused(client):
    gateway_app_create()
    response = client.post(
        CHECK, BODY, content_type="application/json", headers={"Authorization": "Bearer cht_nope"}
    )
    _assert_refused(response, 401, "UNAUTHENTICATED")


def test_a_capability_outside_the_subscriptions_is_refused_for_signed_calls(client):
    app = gateway_app_create(capabilities=["sms"])
    _assert_refused(_post_signed(client, app), 403, "PERMISSION_DENIED")


# --- allow-list and environments ---------------------------------------------------------


def test_the_ip_allowlist_admits_listed_networks_only(client, django_capture_on_commit_callbacks):
    app = gateway_app_create(ip_allowlist=["203.0.113.0/24"])
    _assert_refused(_post_signed(client, app), 403, "PERMISSION_DENIED")  # from 127.0.0.1
    with django_capture_on_commit_callbacks(execute=True):
        services.app_allowlist_set(app_id=app.app_id, entries=["127.0.0.1", "2001:db8::/32"])
    assert _post_signed(client, app).status_code == 200


def test_tokens_are_not_issued_outside_the_allowlist(client):
    app = gateway_app_create(ip_allowlist=["203.0.113.7"])
    response = _token_request(
        client, {"grant_type": "client_credentials"}, basic=f"{app.client_id}:{app.secret}"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert "access_token" not in response.json()


def test_a_malformed_allowlist_entry_is_refused_by_the_service():
    app = gateway_app_create()
    with pytest.raises(services.InvalidAllowlist):
        services.app_allowlist_set(app_id=app.app_id, entries=["10.0.0.0/8", "not-an-ip"])
    assert App.objects.get(pk=app.app_id).ip_allowlist == []


def test_production_credentials_need_production_approval(
    client, django_capture_on_commit_callbacks
):
    app = gateway_app_create()
    with pytest.raises(services.ProductionNotApproved):
        services.credential_issue(app_id=app.app_id, environment="production")
    App.objects.filter(pk=app.app_id).update(production_status="approved")
    issued = services.credential_issue(app_id=app.app_id, environment="production")
    assert issued.client_id.startswith("chlive_")
    # Production withdrawn: the production credential stops working at the next call.
    App.objects.filter(pk=app.app_id).update(production_status="rejected")
    with django_capture_on_commit_callbacks(execute=True):
        services.app_allowlist_set(app_id=app.app_id, entries=[])  # any change invalidates
    response = _post_signed(client, app, client_id=issued.client_id, secret=issued.secret)
    _assert_refused(response, 401, "UNAUTHENTICATED")


def test_a_suspended_partner_is_refused_at_once(client, django_capture_on_commit_callbacks):
    app = gateway_app_create()
    assert _post_signed(client, app).status_code == 200
    PERFORMED.clear()
    Partner.objects.filter(pk=app.partner_id).update(status="suspended")
    with django_capture_on_commit_callbacks(execute=True):
        from apps.gateway.context import app_context_invalidate

        app_context_invalidate(app_id=app.app_id)
    _assert_refused(_post_signed(client, app), 401, "UNAUTHENTICATED")


# --- rotation ----------------------------------------------------------------------------


def test_rotation_two_active_secrets_then_revoke(client, django_capture_on_commit_callbacks):
    app = gateway_app_create()
    old_token = bearer_token(client_id=app.client_id, secret=app.secret)
    with django_capture_on_commit_callbacks(execute=True):
        new = services.credential_issue(app_id=app.app_id, environment="sandbox")
    # Both secrets verify during the rotation.
    assert _post_signed(client, app).status_code == 200
    assert _post_signed(client, app, client_id=new.client_id, secret=new.secret).status_code == 200
    # A third is refused while two are active.
    with pytest.raises(services.CredentialLimitReached):
        services.credential_issue(app_id=app.app_id, environment="sandbox")
    # Revoke the old one: its signatures and its tokens stop at once; the new one goes on.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.credential_revoke(credential_id=app.credential_id, actor_id=app.owner_id)
    PERFORMED.clear()
    _assert_refused(_post_signed(client, app), 401, "UNAUTHENTICATED")
    response = client.post(
        CHECK,
        BODY,
        content_type="application/json",
        headers={"Authorization": f"Bearer {old_token}"},
    )
    _assert_refused(response, 401, "UNAUTHENTICATED")
    assert _post_signed(client, app, client_id=new.client_id, secret=new.secret).status_code == 200
    assert services.credential_revoke(credential_id=app.credential_id) is False
    actions = list(
        AuditEvent.objects.filter(object_type="gateway_credential")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "gateway_credential.issued",
        "gateway_credential.issued",
        "gateway_credential.revoked",
    ]
    # The freed slot takes a new credential.
    services.credential_issue(app_id=app.app_id, environment="sandbox")


def test_an_expired_credential_is_refused_at_once(client, django_capture_on_commit_callbacks):
    app = gateway_app_create()
    with django_capture_on_commit_callbacks(execute=True):
        services.credential_expiry_set(
            credential_id=app.credential_id,
            expires_at=timezone.now() + timedelta(milliseconds=300),
        )
    assert _post_signed(client, app).status_code == 200
    PERFORMED.clear()
    time.sleep(0.4)
    _assert_refused(_post_signed(client, app), 401, "UNAUTHENTICATED")


def test_the_secret_is_stored_encrypted():
    from apps.gateway.models import Credential

    app = gateway_app_create()
    stored = Credential.objects.get(pk=app.credential_id)
    assert app.secret not in stored.secret_encrypted
    assert stored.secret_hint == app.secret[-4:]
