"""The capability operations' schemas in /api/schema/ describe what their validation accepts.

For every partner-gateway operation with a request body, Schemathesis generates bodies (and
headers, path ids) that the schema allows, and each is sent with a partner's access token for
every capability. A schema-valid request may be refused for business reasons (404 unknown
subscriber or payment, 403, 409, 422 CAMARA codes), never as malformed (400
``INVALID_ARGUMENT`` / ``OUT_OF_RANGE``) and never with a 5xx: either would mean the schema and
the validation disagree.

NUL characters are not generated: every endpoint refuses them (``apps.core.middleware``),
which the schema cannot say for each string. Bounded for CI: a few examples per operation, a
fixed seed and derandomized generation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from apps.gateway.capabilities_catalog import Capability
from apps.gateway.tests.support import bearer_token, gateway_app_create
from tests.test_api_fuzz import _load_schema

EXAMPLES_PER_OPERATION = 8
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "seed": 20261207,
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}},
        "generation": {
            "mode": "positive",
            "max-examples": EXAMPLES_PER_OPERATION,
            "allow-x00": False,
        },
    }
)
MALFORMED = {"INVALID_ARGUMENT", "OUT_OF_RANGE"}


def _partner_operation_with_body(ctx: Any) -> bool:
    raw = ctx.operation.definition.raw
    tags = raw.get("tags", [])
    return "requestBody" in raw and any(tag.startswith("partner gateway") for tag in tags)


schema = _load_schema(CONFIG).include(func=_partner_operation_with_body)


@pytest.fixture
def partner_token(db, carrier_sandbox) -> str:
    app = gateway_app_create(capabilities=list(Capability.values), rate_per_second=100000)
    return bearer_token(client_id=app.client_id, secret=app.secret)


@pytest.fixture
def caller(partner_token):
    """The token, and (after ``bearer_token`` used Django's test client, which reconnects it)
    the test's connection kept open across the WSGI calls: its transaction holds them."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield partner_token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _correlator(body: Any) -> str | None:
    """The body's ``clientCorrelator`` (top level or in ``amountTransaction``), if any."""
    if not isinstance(body, dict):
        return None
    inner = body.get("amountTransaction")
    found = body.get("clientCorrelator") or (inner or {}).get("clientCorrelator")
    return found if isinstance(found, str) else None


# CAMARA (carrier billing 400.05) refuses a clientCorrelator already used with another request
# as 400 INVALID_ARGUMENT: a state the schema cannot describe, so a reused one is exempt.
_CORRELATORS_SENT: set[tuple[str, str]] = set()


def _code(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


@pytest.mark.fuzz
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_schema_valid_bodies_are_not_refused_as_malformed(case, caller):
    response = case.call(headers={"Authorization": f"Bearer {caller}"})
    code = _code(response)
    malformed = response.status_code == 400 and code in MALFORMED
    correlator = _correlator(case.body)
    if correlator is not None:
        key = (case.operation.path, correlator)
        malformed = malformed and key not in _CORRELATORS_SENT
        _CORRELATORS_SENT.add(key)
    if malformed or response.status_code >= 500:
        sent = {
            "path": case.formatted_path,
            "headers": {k: v for k, v in (case.headers or {}).items() if k != "Authorization"},
            "body": case.body,
        }
        pytest.fail(
            f"{case.operation.method.upper()} {case.operation.path}: a schema-valid request "
            f"{json.dumps(sent, ensure_ascii=False, default=str)} got {response.status_code} "
            f"{response.text[:500]}"
        )
