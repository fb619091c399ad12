"""One-time password SMS (CAMARA OTPValidation v1): ``/send-code`` and ``/validate-code``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.phone import InvalidPhoneNumber, normalize_phone
from apps.core.serializers import StrictSerializer
from apps.gateway import messaging
from apps.gateway.api.base import CapabilityView, GatewayRequest
from apps.gateway.capabilities.common import PhoneNumberField
from apps.gateway.capability_errors import OtpPhoneNumberNotAllowed


class SendCodeInput(StrictSerializer):
    phoneNumber = PhoneNumberField()  # noqa: N815 - CAMARA's field names
    # CAMARA: the template must hold {{code}} and fit one SMS (160 characters).
    message = serializers.RegexField(r"\{\{code\}\}", max_length=160, trim_whitespace=False)


class ValidateCodeInput(StrictSerializer):
    authenticationId = serializers.UUIDField()  # noqa: N815
    code = serializers.CharField(max_length=10)


class SendCodeOut(serializers.Serializer):
    authenticationId = serializers.UUIDField()  # noqa: N815


class SendCode(CapabilityView):
    capability = "one-time-password-sms"
    scope = "one-time-password-sms:send-validate"
    http_method_names = ["post"]
    input_serializer = SendCodeInput
    output_serializer = SendCodeOut
    writes = True

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        try:
            # A well-formed number that no text can reach (a landline): CAMARA's 403.
            msisdn = normalize_phone(data["phoneNumber"])
        except InvalidPhoneNumber as exc:
            raise OtpPhoneNumberNotAllowed() from exc
        authentication_id = messaging.otp_send(
            gateway_app=request.gateway_app, msisdn=msisdn, template=data["message"]
        )
        return Response({"authenticationId": str(authentication_id)})


@extend_schema_view(post=extend_schema(responses={204: None}))
class ValidateCode(CapabilityView):
    capability = "one-time-password-sms"
    scope = "one-time-password-sms:send-validate"
    http_method_names = ["post"]
    input_serializer = ValidateCodeInput
    writes = True

    def perform(self, request: GatewayRequest, data: dict[str, Any]) -> Response:
        messaging.otp_validate(
            app_id=request.gateway_app.app_id,
            authentication_id=data["authenticationId"],
            code=data["code"],
        )
        return Response(status=204)
