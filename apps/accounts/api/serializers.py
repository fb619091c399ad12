"""Input and output shapes of the accounts API, one pair per operation."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.serializers import StrictSerializer


class OtpRequestInput(StrictSerializer):
    phone = serializers.CharField(max_length=32, help_text="Mobile number, e.g. 13800138000")


class OtpRequestOutput(serializers.Serializer):
    phone = serializers.CharField(help_text="The number in E.164")
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid")
    resend_after = serializers.IntegerField(help_text="Seconds before another code may be sent")


class SignInInput(StrictSerializer):
    phone = serializers.CharField(max_length=32)
    code = serializers.CharField(max_length=12)
    token_name = serializers.CharField(max_length=64, required=False, default="")


class RealNameOutput(serializers.Serializer):
    masked_name = serializers.CharField()
    id_number_masked = serializers.CharField()
    method = serializers.CharField()
    verified_at = serializers.DateTimeField()


class ProfileOutput(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    phone_display = serializers.CharField()
    nickname = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    is_staff = serializers.BooleanField()
    real_name = RealNameOutput(allow_null=True)


class SignInOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Bearer token, shown once")
    expires_at = serializers.DateTimeField()
    created = serializers.BooleanField(help_text="True when this sign-in registered the number")
    user = ProfileOutput()


class RealNameInput(StrictSerializer):
    name = serializers.CharField(max_length=30)
    id_number = serializers.CharField(max_length=18, min_length=18)
