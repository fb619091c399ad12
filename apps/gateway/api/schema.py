"""OpenAPI for capability views: their security schemes, scope, body and standard headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter

from apps.gateway.capabilities.common import CheckedIntegerField, NumberField, UniqueListField
from apps.gateway.capabilities_catalog import SCOPE_TO_CAPABILITY
from apps.gateway.idempotency import MAX_KEY_LENGTH

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

    def _get_request_body(self, *args: Any, **kwargs: Any) -> Any:
        # Every capability call with a body needs one, even when none of its fields is required.
        body = super()._get_request_body(*args, **kwargs)
        if body:
            body["required"] = True
        return body

    def get_override_parameters(self) -> list[Any]:
        from apps.gateway.api.base import CORRELATOR_PATTERN  # (base imports this module)

        view: Any = self.view
        parameters: list[Any] = [
            OpenApiParameter(
                "x-correlator",
                {"type": "string", "pattern": CORRELATOR_PATTERN.pattern},
                OpenApiParameter.HEADER,
                description="Echoed on the answer; made when absent.",
            )
        ]
        if view.input_serializer is not None and self.method in ("GET", "DELETE"):
            parameters.append(view.input_serializer)
        if view.idempotent:
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
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


# The gateway's own fields, described as their validation reads them.


class UniqueListFieldSchema(OpenApiSerializerFieldExtension):
    target_class = UniqueListField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        return {**schema, "uniqueItems": True}


class CheckedIntegerFieldSchema(OpenApiSerializerFieldExtension):
    target_class = CheckedIntegerField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(
            self.target, direction, bypass_extensions=True
        )
        field: Any = self.target
        if field.schema_minimum is not None:
            schema["minimum"] = field.schema_minimum
        if field.schema_maximum is not None:
            schema["maximum"] = field.schema_maximum
        return schema


class NumberFieldSchema(OpenApiSerializerFieldExtension):
    target_class = NumberField
    priority = 1  # over the DecimalField one (apps.core.schema)

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field: Any = self.target
        schema: dict[str, Any] = {"type": "number", "format": "double"}
        if field.min_value is not None:
            schema["minimum"] = float(field.min_value)
        if field.max_value is not None:
            schema["maximum"] = float(field.max_value)
        return schema
