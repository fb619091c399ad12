"""One CAMARA scenario's state: the request being built, the lines it uses, the answer."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from apps.gateway.tests.camara import documents
from apps.gateway.tests.capability_support import device_token
from apps.gateway.tests.support import GatewayTestApp
from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import unique_msisdn

CAPABILITIES = (
    "sim-swap", "number-verification", "one-time-password-sms", "carrier-billing", "kyc-match",
    "kyc-age-verification", "device-roaming-status", "device-reachability-status",
    "location-verification", "sms",
)  # fmt: skip
NO_BODY = object()  # "the request body is not included"
# The register entry and position every scenario's line gets (fictional).
REGISTER = {
    "id_document": "110101199003074477", "name": "张伟", "given_name": "伟", "family_name": "张",
    "birthdate": "1990-03-07", "address": "广州市天河区体育西路1号", "postal_code": "510620",
    "region": "广东", "locality": "广州", "country": "CN", "email": "zhangwei@example.cn",
    "gender": "MALE",
}  # fmt: skip
POSITION = {"latitude": 23.1291, "longitude": 113.2644, "accuracy_m": 100}
JSONPATH = re.compile(r"^\$?\.?")


def _parts(path: str) -> list[str]:
    return [p for p in JSONPATH.sub("", path.strip()).split(".") if p]


@dataclass
class Scenario:
    """What the steps build and check; one per scenario."""

    client: Any
    app: GatewayTestApp
    sandbox: SandboxServer
    # pytest-django's django_capture_on_commit_callbacks: work handed on after commit (the
    # SMS of a code, a payment's settlement) runs at once, as it would after a real commit.
    on_commit: Any = None
    resource: str = ""
    method: str | None = None
    operation_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    token: str | None = "default"  # "default": the right valid token, decided when sending
    body: Any = None  # None: the operation's default, built when first needed
    raw_body: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    response: Any = None
    lines: dict[str, str] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Scenario({self.operation_id or self.resource})"

    # --- the sandbox ------------------------------------------------------------------------

    def line(self, name: str = "main", *, registered: bool = True, **state: Any) -> str:
        """A fresh active line of ours with a register entry (unless not ``registered``) and a
        position, made once per name."""
        if name not in self.lines:
            msisdn = unique_msisdn()
            self.sandbox.put_subscriber(msisdn, status="active", balance_fen=100_000)
            if registered:
                self.sandbox_put(f"/sandbox/subscribers/{msisdn}/real-name", REGISTER)
            self.sandbox_put(f"/sandbox/subscribers/{msisdn}/device", {**POSITION, **state})
            self.lines[name] = msisdn
            self.memory[f"opened:{name}"] = datetime.now(UTC)
        return self.lines[name]

    def sandbox_put(self, path: str, body: dict[str, Any]) -> None:
        response = httpx.put(
            f"{self.sandbox.url}{path}",
            json=body,
            headers={"X-Api-Key": self.sandbox.api_key},
            timeout=10,
        )
        response.raise_for_status()

    def sandbox_post(self, path: str, body: dict[str, Any]) -> None:
        response = httpx.post(
            f"{self.sandbox.url}{path}",
            json=body,
            headers={"X-Api-Key": self.sandbox.api_key},
            timeout=10,
        )
        response.raise_for_status()

    def texted_code(self, msisdn: str) -> str:
        """The code of the latest text to ``msisdn``."""
        for message in self.sandbox.messages(msisdn):
            match = re.search(r"(?:验证码|code)\D{0,3}(\d{4,8})", message["text"])
            if match is None:
                match = re.search(r"(\d{6})", message["text"])
            if match is not None:
                return match.group(1)
        raise AssertionError(f"no code was texted to {msisdn}")

    # --- tokens -----------------------------------------------------------------------------

    def _post_token(self, data: dict[str, str]) -> str:
        basic = base64.b64encode(f"{self.app.client_id}:{self.app.secret}".encode()).decode()
        answer = self.client.post(
            "/oauth2/token", data, headers={"Authorization": f"Basic {basic}"}
        )  # fmt: skip
        assert answer.status_code == 200, answer.content
        return str(answer.json()["access_token"])

    def two_legged_token(self, scope: str | None = None) -> str:
        key = f"2:{scope}"
        if key not in self._tokens:
            data = {"grant_type": "client_credentials"}
            if scope:
                data["scope"] = scope
            self._tokens[key] = self._post_token(data)
        return self._tokens[key]

    def three_legged_token(self, line: str = "main") -> str:
        key = f"3:{line}"
        if key not in self._tokens:
            self._tokens[key] = self._post_token(
                {
                    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                    "subject_token": device_token(self.sandbox, self.line(line)),
                    "subject_token_type": "urn:carrierhub:params:oauth:token-type:device-token",
                }
            )
        return self._tokens[key]

    # --- the request ------------------------------------------------------------------------

    def operation(self, operation_id: str | None = None) -> documents.Operation:
        ops = documents.operations()
        if operation_id:
            return ops[operation_id]
        if self.operation_id:
            return ops[self.operation_id]
        candidates = [op for op in ops.values() if op.path == self.resource]
        if not candidates:
            candidates = [op for op in ops.values() if op.path.startswith(self.resource + "/")]
        if not candidates:
            # A resource the feature names loosely ("/carrier-billing-refund/v0.3/refunds" for
            # ".../payments/{paymentId}/refunds"): the same API's path with that ending.
            base, _, last = self.resource.rpartition("/")
            api = base.split("/")[1] if base.count("/") else base
            candidates = [
                op for op in ops.values() if op.path.endswith("/" + last) and f"/{api}/" in op.path
            ]
        if self.method:
            candidates = [op for op in candidates if op.method == self.method] or candidates
        with_body = [op for op in candidates if op.method == "POST"]
        return (with_body or candidates)[0]

    def ensure_body(self) -> dict[str, Any]:
        if self.body is None or self.body is NO_BODY:
            from apps.gateway.tests.camara.defaults import default_body

            self.body = default_body(self, self.operation().operation_id)
        return self.body

    def body_set(self, path: str, value: Any) -> None:
        node = self.ensure_body()
        parts = _parts(path)
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def body_drop(self, path: str) -> None:
        node: Any = self.ensure_body()
        parts = _parts(path)
        for part in parts[:-1]:
            node = node.get(part, {})
        node.pop(parts[-1], None)

    def body_get(self, path: str) -> Any:
        node: Any = self.ensure_body()
        for part in _parts(path):
            node = node[part]
        return node

    def send(self, operation_id: str | None = None, method: str | None = None) -> None:
        op = self.operation(operation_id)
        self.operation_id = op.operation_id
        method = method or op.method
        path = op.path
        for name in re.findall(r"\{(\w+)\}", path):
            path = path.replace("{" + name + "}", self.path_value(name))
        headers = dict(self.headers)
        if self.token == "default":
            token = (
                self.three_legged_token()
                if op.document == "number-verification.yaml"
                else self.two_legged_token()
            )
            headers["Authorization"] = f"Bearer {token}"
        elif self.token is not None:
            headers["Authorization"] = self.token
        with self.on_commit(execute=True):
            self._send(method, path, headers)

    def _send(self, method: str, path: str, headers: dict[str, str]) -> None:
        content_type = headers.pop("Content-Type", "application/json")
        send = getattr(self.client, method.lower())
        if method in ("GET", "DELETE"):
            target = path
            if self.query:
                target += "?" + urlencode([(k, _moment(v)) for k, v in self.query])
            self.response = send(target, headers=headers)
            return
        if self.raw_body is not None:
            data: Any = self.raw_body
        elif self.body is NO_BODY:
            data = ""
        else:
            data = json.dumps(self.ensure_body())
        self.response = send(path, data=data, content_type=content_type, headers=headers)

    def path_value(self, name: str) -> str:
        if name in self.path_params:
            return self.path_params[name]
        from apps.gateway.tests.camara.defaults import default_path_value

        value = default_path_value(self, name)
        self.path_params[name] = value
        return value

    # --- the answer -------------------------------------------------------------------------

    def answer(self) -> Any:
        assert self.response is not None, "no request was sent"
        content = self.response.content
        return json.loads(content) if content else None

    def answer_get(self, path: str) -> Any:
        node = self.answer()
        for part in _parts(path):
            node = node[part]
        return node

    def answer_has(self, path: str) -> bool:
        node = self.answer()
        for part in _parts(path):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def document(self) -> str:
        return self.operation().document


_NOW = re.compile(r"^NOW(?: - (\d+) days?)?$")


def _moment(value: str) -> str:
    """The features' "NOW - 7 days" as an RFC 3339 time; other values as they are."""
    match = _NOW.match(value.strip())
    if match is None:
        return value
    when = datetime.now(UTC) - timedelta(days=int(match.group(1) or 0))
    if not match.group(1):
        when += timedelta(minutes=5)  # "NOW" as an upper bound takes what was just made
    return when.isoformat().replace("+00:00", "Z")


def new_correlator() -> str:
    return str(uuid.uuid4())


def random_reference() -> str:
    return "ref-" + secrets.token_hex(6)
