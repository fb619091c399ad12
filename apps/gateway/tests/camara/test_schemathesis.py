"""Schemathesis with each CAMARA document (not the project's schema) against the running
gateway (a live server): requests generated from the document, a token with every scope, the
sandbox as the carrier.
No answer may be a server error, or use a status code, content type or body the document
does not describe. Bounded: a few derandomized examples per operation."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from apps.gateway.tests.camara import documents

if not documents.available():
    pytest.skip(documents.MISSING, allow_module_level=True)

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.gateway.tests.camara.context import CAPABILITIES
from apps.gateway.tests.support import gateway_app_create

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES_PER_OPERATION = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _schema(name: str) -> Any:
    raw = dict(documents.document(name))
    raw["servers"] = [{"url": documents.base_path(raw)}]
    return schemathesis.openapi.from_dict(raw)


def _token(client: Any, app: Any) -> str:
    basic = base64.b64encode(f"{app.client_id}:{app.secret}".encode()).decode()
    answer = client.post(
        "/oauth2/token",
        {"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


@pytest.mark.parametrize("name", documents.yaml_names() if documents.available() else [])
def test_the_gateway_answers_as_the_document_says(
    name, carrier_sandbox, client, live_server, settings_
):
    # With the pre-authorised agreement, so that createPayment's one-step charge is reached too.
    app = gateway_app_create(
        capabilities=list(CAPABILITIES), rate_per_second=100_000, carrier_billing_one_step=True
    )
    headers = {"Authorization": f"Bearer {_token(client, app)}"}
    base_url = live_server.url + documents.base_path(documents.document(name))
    schema = _schema(name)

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        check()


@pytest.fixture
def settings_(settings):
    """Tokens that outlive the run."""
    settings.GATEWAY_TOKEN_TTL_SECONDS = 600
    return settings
