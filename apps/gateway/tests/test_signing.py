"""The signing rule as documented: the worked example, and clients written only from the docs."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from apps.gateway import signing
from apps.gateway.tests.support import gateway_app_create
from apps.gateway.tests.views import PERFORMED

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def _doc_block(marker: str) -> str:
    """The fenced code block right after ``<!-- marker -->`` in docs/api.md."""
    text = API_DOC.read_text()
    match = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)\n```", text, re.S)
    assert match, f"no {marker} block in docs/api.md"
    return match.group(1)


def test_the_worked_example_in_the_docs():
    body = b'{"phoneNumber":"+8613800138000","maxAge":240}'
    inputs = {
        "date": "1795766400",
        "nonce": "c0ffee00c0ffee00c0ffee00",
        "method": "POST",
        "target": "/sim-swap/v2/check",
        "body": body,
    }
    expected_string = (
        "CH-HMAC-SHA256\n1795766400\nc0ffee00c0ffee00c0ffee00\nPOST\n/sim-swap/v2/check\n"
        "8515dc86309608e0ddea2468e2d269259d722abb03adcb15519dfe249a9b3a01"
    )
    assert signing.string_to_sign(**inputs) == expected_string
    signature = signing.sign(secret="Wc3pQ9dE_example_secret_do_not_use_4nV7kX2m", **inputs)
    assert signature == "0432cd2a0b513d3aec11a7992cedeabf18c4b9d93469caa12c4ad3c92524dd19"
    doc = API_DOC.read_text()
    assert signature in doc
    assert "```\n" + expected_string + "\n```" in doc


def test_authorization_header_round_trip():
    header = signing.authorization_header(client_id="chsb_abc", signature="0" * 64)
    assert header == f"CH-HMAC-SHA256 Credential=chsb_abc, Signature={'0' * 64}"
    parsed = signing.parse_authorization(header)
    assert parsed == signing.SignedRequest(client_id="chsb_abc", signature="0" * 64)
    assert signing.parse_authorization("CH-HMAC-SHA256 Credential=x, Signature=zz") is None
    assert signing.parse_authorization("Bearer abc") is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("apps.gateway.tests.urls")
def test_a_python_client_written_from_the_docs_works(live_server):
    PERFORMED.clear()
    app = gateway_app_create()
    namespace: dict = {}
    exec(_doc_block("gateway-signing-python"), namespace)  # noqa: S102 - our own docs
    response = namespace["signed_request"](
        live_server.url,
        app.client_id,
        app.secret,
        "POST",
        "/test-sim-swap/v1/check",
        {"phoneNumber": "+8613800138000", "maxAge": 240},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"swapped": False, "appId": app.app_id}
    assert PERFORMED == [{"view": "check", "phoneNumber": "+8613800138000", "maxAge": 240}]


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("apps.gateway.tests.urls")
def test_the_bash_snippet_from_the_docs_works(live_server):
    PERFORMED.clear()
    app = gateway_app_create()
    env = {
        **os.environ,
        "BASE": live_server.url,
        "TARGET": "/test-sim-swap/v1/check",
        "CLIENT_ID": app.client_id,
        "SECRET": app.secret,
    }
    result = subprocess.run(
        ["bash", "-c", _doc_block("gateway-signing-bash")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout) == {"swapped": False, "appId": app.app_id}
    assert PERFORMED == [{"view": "check", "phoneNumber": "+8613800138000", "maxAge": 240}]
