"""Test support for gateway callers, also a pytest plugin (listed in the root conftest).

``gateway_app_create`` makes an approved partner, an app, a credential and a subscription to a
package of the given capabilities; ``signed_headers`` signs a request exactly as docs/api.md
says; ``SignedClient`` sends signed requests through Django's test client; ``bearer_token``
gets an OAuth2 token from ``/oauth2/token``.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from apps.gateway import signing


@dataclass(frozen=True)
class GatewayTestApp:
    """What a test needs to call as this app."""

    owner_id: int
    partner_id: int
    app_id: int
    package_id: int
    subscription_id: int
    credential_id: int
    client_id: str
    secret: str
    environment: str


def gateway_app_create(
    *,
    capabilities: Iterable[str] = ("sim-swap",),
    quota_calls: int | None = None,
    quota_period: str = "month",
    rate_per_second: int = 1000,
    environment: str = "sandbox",
    ip_allowlist: Iterable[str] = (),
    callback_urls: Iterable[str] = (),
    price_per_call_fen: int = 0,
    carrier_billing_one_step: bool = False,
) -> GatewayTestApp:
    """An approved partner with one app (production approved when ``environment`` says so),
    a credential for ``environment`` and a subscription to a new package (with the carrier's
    pre-authorised one-step billing agreement when ``carrier_billing_one_step``)."""
    from apps.accounts.models import User
    from apps.gateway import services
    from apps.gateway.models import App, Package, Partner

    owner = User.objects.create_user(f"+86139{secrets.randbelow(10**8):08d}")
    partner = Partner.objects.create(
        owner=owner,
        company_name=f"Test Co {owner.pk}",
        contact_name="Test Contact",
        contact_phone=owner.phone,
        contact_email=f"dev{owner.pk}@example.com",
        licence_number=f"91110000{secrets.randbelow(10**10):010d}",
        status=Partner.Status.APPROVED,
    )
    app = App.objects.create(
        partner=partner,
        name=f"app-{owner.pk}",
        callback_urls=list(callback_urls),
        ip_allowlist=list(ip_allowlist),
        production_status=App.ProductionStatus.APPROVED
        if environment == "production"
        else App.ProductionStatus.NONE,
    )
    package = Package.objects.create(
        code=f"pkg-{secrets.token_hex(6)}",
        name="Test package",
        capabilities=list(capabilities),
        carrier_billing_one_step=carrier_billing_one_step,
        quota_calls=quota_calls,
        quota_period=quota_period,
        rate_per_second=rate_per_second,
        price_per_call_fen=price_per_call_fen,
    )
    subscription_id = services.subscription_start(app_id=app.pk, package_id=package.pk)
    issued = services.credential_issue(app_id=app.pk, environment=environment)
    return GatewayTestApp(
        owner_id=owner.pk,
        partner_id=partner.pk,
        app_id=app.pk,
        package_id=package.pk,
        subscription_id=subscription_id,
        credential_id=issued.id,
        client_id=issued.client_id,
        secret=issued.secret,
        environment=environment,
    )


def signed_headers(
    *,
    client_id: str,
    secret: str,
    method: str,
    target: str,
    body: bytes = b"",
    date: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers of a signed request (``target``: path and query as sent)."""
    date_text = str(int(time.time()) if date is None else date)
    nonce = nonce or secrets.token_hex(16)
    signature = signing.sign(
        secret=secret, date=date_text, nonce=nonce, method=method, target=target, body=body
    )
    return {
        "Authorization": signing.authorization_header(client_id=client_id, signature=signature),
        signing.DATE_HEADER: date_text,
        signing.NONCE_HEADER: nonce,
    }


class SignedClient:
    """Django's test client, signing every request as ``app``."""

    def __init__(self, app: GatewayTestApp, client: Any = None) -> None:
        from django.test import Client

        self.app = app
        self.client = client or Client()

    def call(
        self,
        method: str,
        target: str,
        payload: Any = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Any:
        body = b"" if payload is None else json.dumps(payload).encode()
        signed = signed_headers(
            client_id=self.app.client_id,
            secret=self.app.secret,
            method=method,
            target=target,
            body=body,
        )
        send = getattr(self.client, method.lower())
        if method.upper() in ("GET", "DELETE") and not body:
            return send(target, headers={**signed, **(headers or {})}, **extra)
        return send(
            target,
            data=body,
            content_type="application/json",
            headers={**signed, **(headers or {})},
            **extra,
        )

    def post(self, target: str, payload: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", target, payload, **kwargs)

    def get(self, target: str, **kwargs: Any) -> Any:
        return self.call("GET", target, **kwargs)


def bearer_token(
    *, client_id: str, secret: str, scope: str | None = None, client: Any = None
) -> str:
    """An access token from ``POST /oauth2/token`` (HTTP Basic client authentication)."""
    from django.test import Client

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = (client or Client()).post(
        "/oauth2/token", data=data, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


@pytest.fixture
def gateway_app_factory(db: None) -> Callable[..., GatewayTestApp]:
    """``gateway_app_create`` as a fixture."""
    return gateway_app_create


@pytest.fixture(autouse=True)
def _gateway_caches() -> Iterator[None]:
    """Contexts, tokens and metering buffers cached in this process must not outlive a test."""
    yield
    from apps.gateway import metering, tokens
    from apps.gateway.context import context_forget_all

    context_forget_all()
    tokens.forget_all()
    metering.meter_discard()


@pytest.fixture
def loopback_callbacks(settings: Any) -> None:
    """Let callbacks reach the test's receiver on 127.0.0.1 (off by default, as in production)."""
    settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK = True
