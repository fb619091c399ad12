"""OpenAPI for capability views: their security schemes, scope, body and standard headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from apps.gateway.capabilities_catalog import SCOPE_TO_CAPABILITY

OAUTH2 = "oauth2ClientCredentials"
HMAC = "chHmacSignature"

_SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    OAUTH2: {
        "type": "oauth2",
        "description": "OAuth2 client credentials; tokens live 5 minutes.",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "/oauth2/token",
                "scopes": {
                    scope: f"the {cap} capability" for scope, cap in SCOPE_TO_CAPABILITY.items()
                },
            }
        },
    },
    HMAC: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            "`CH-HMAC-SHA256 Credential=<client id>, Signature=<hex>` with the `X-CH-Date` "
            "(Unix seconds, ±300 s) and `X-CH-Nonce` (16–64 of A-Za-z0-9_-, used once) headers. "
            "Signature: hex HMAC-SHA256 under the client secret of "
            "`CH-HMAC-SHA256\\n<date>\\n<nonce>\\n<METHOD>\\n<path?query>\\n<hex SHA-256 of body>` "
            "(docs/api.md, 'Partner gateway: signing requests')."
        ),
    },
}


class CapabilityAutoSchema(AutoSchema):
    """What every capability operation has in common, so generated clients can call it."""

    def get_auth(self) -> list[dict[str, list[str]]]:
        view: Any = self.view
        for name, definition in _SECURITY_SCHEMES.items():
            self.registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SECURITY_SCHEMA,
                    object=name,
                    schema=definition,
                )
            )
        return [{OAUTH2: [view.scope]}, {HMAC: []}]

    def get_request_serializer(self) -> Any:
        view: Any = self.view
        if self.method in ("GET", "DELETE"):
            return None
        return view.input_serializer or super().get_request_serializer()

    def get_override_parameters(self) -> list[Any]:
        view: Any = self.view
        parameters: list[Any] = [
            OpenApiParameter(
                "x-correlator",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Echoed on the answer; made when absent. Pattern "
                "^[a-zA-Z0-9-_:;./<>{}]{0,256}$",
            )
        ]
        if view.input_serializer is not None and self.method in ("GET", "DELETE"):
            parameters.append(view.input_serializer)
        if view.idempotent:
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="A repeat with the same body gets the first answer; with "
                    "another body, 409 CONFLICT.",
                )
            )
        return parameters + list(super().get_override_parameters())

    def get_response_serializers(self) -> Any:
        view: Any = self.view
        return view.output_serializer or super().get_response_serializers()

    def get_tags(self) -> list[str]:
        view: Any = self.view
        return [f"partner gateway: {view.capability}"]
