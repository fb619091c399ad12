"""Schemathesis over the whole OpenAPI schema (/api/schema/): with a consumer's token and with
a partner's access token, no generated request gets a 5xx (``not_a_server_error``).

Bounded for CI: fuzzing only, a few examples per operation, a fixed seed and derandomized
generation, so a run is deterministic and takes a minute or two.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from apps.accounts import services as accounts
from apps.accounts.models import User
from apps.gateway.tests.support import bearer_token, gateway_app_create

EXAMPLES_PER_OPERATION = 4
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "seed": 20261207,
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}},
        "generation": {"max-examples": EXAMPLES_PER_OPERATION},
    }
)
CAPABILITIES = [
    "sim-swap", "number-verification", "mobile-data", "one-time-password-sms", "sms", "voice",
    "carrier-billing", "sponsored-data",
]  # fmt: skip


def _load_schema(
    config: schemathesis.config.SchemathesisConfig = CONFIG,
) -> schemathesis.BaseSchema:
    """The document /api/schema/ serves, generated in-process, called through the WSGI app."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from config.wsgi import application

    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(document)), config=config
    )
    loaded.app = application
    return loaded


schema = _load_schema()


@pytest.fixture
def callers(tokens):
    """The tokens, and (as Django's test client does for each request, after ``tokens`` used
    it) the test's connection kept open across the WSGI calls: its transaction holds them."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield tokens
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, carrier_sandbox) -> dict[str, str]:
    user = User.objects.create_user("13800138077")
    consumer, _ = accounts.api_token_issue(user_id=user.pk)
    app = gateway_app_create(capabilities=CAPABILITIES)
    partner = bearer_token(client_id=app.client_id, secret=app.secret)
    return {"consumer": consumer, "partner": partner}


@pytest.mark.fuzz
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, callers):
    for token in callers.values():
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=[not_a_server_error])
