"""Input and output shapes of the developer-portal API (/api/v1/developer/)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.serializers import StrictSerializer
from apps.gateway.capabilities_catalog import Capability
from apps.gateway.models import Environment


class CompanyInput(StrictSerializer):
    company_name = serializers.CharField(max_length=200)
    contact_name = serializers.CharField(max_length=60)
    contact_phone = serializers.CharField(max_length=32, help_text="Mobile number")
    contact_email = serializers.CharField(max_length=254)
    licence_number = serializers.CharField(
        max_length=24, help_text="18-character unified social credit code (GB 32100-2015)"
    )


class PartnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    company_name = serializers.CharField()
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()
    licence_number = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "approved", "rejected", "suspended"])
    reject_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)


class AppInput(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    callback_urls = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, default=list,
        help_text="https URLs (http only to 127.0.0.1, ::1 or localhost); at most 5",
    )  # fmt: skip
    ip_allowlist = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list,
        help_text="Addresses or CIDR networks; empty allows any address",
    )  # fmt: skip


class CredentialOutput(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.CharField()
    environment = serializers.ChoiceField(choices=Environment.choices)
    secret_hint = serializers.CharField(help_text="The secret's last 4 characters")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()


class IssuedCredentialOutput(serializers.Serializer):
    id = serializers.IntegerField()
    app_id = serializers.IntegerField()
    client_id = serializers.CharField()
    client_secret = serializers.CharField(source="secret", help_text="Shown in this answer only")
    environment = serializers.ChoiceField(choices=Environment.choices)
    expires_at = serializers.DateTimeField(allow_null=True)


class QuotaOutput(serializers.Serializer):
    environment = serializers.ChoiceField(choices=Environment.choices)
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    used = serializers.IntegerField(allow_null=True, help_text="null: cannot be read right now")
    remaining = serializers.IntegerField(allow_null=True)
    resets_in_seconds = serializers.IntegerField()


class SubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    package_code = serializers.CharField()
    package_name = serializers.CharField()
    capabilities = serializers.ListField(child=serializers.CharField())
    quota_period = serializers.CharField()
    starts_at = serializers.DateTimeField()
    quota = QuotaOutput(many=True)


class AppOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    callback_urls = serializers.ListField(child=serializers.CharField())
    ip_allowlist = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    production_status = serializers.ChoiceField(
        choices=["none", "requested", "approved", "rejected"]
    )
    production_reject_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class AppDetailOutput(AppOutput):
    credentials = CredentialOutput(many=True)
    subscriptions = SubscriptionOutput(many=True)


class AppCreatedOutput(serializers.Serializer):
    app = AppOutput()
    credential = IssuedCredentialOutput(
        help_text="The sandbox credential; its secret is shown once"
    )


class CredentialInput(StrictSerializer):
    environment = serializers.ChoiceField(choices=Environment.choices)


class RevokedOutput(serializers.Serializer):
    revoked = serializers.BooleanField(help_text="False if it was already revoked")


class PackageOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    capabilities = serializers.ListField(child=serializers.CharField())
    quota_calls = serializers.IntegerField(allow_null=True)
    quota_period = serializers.CharField()
    rate_per_second = serializers.IntegerField()
    price_per_call_fen = serializers.IntegerField()
    price_fen = serializers.IntegerField()


class SubscribeInput(StrictSerializer):
    package = serializers.CharField(max_length=40, help_text="The package's code")


class SubscribedOutput(serializers.Serializer):
    subscription_id = serializers.IntegerField()


class UsageQuery(StrictSerializer):
    granularity = serializers.ChoiceField(choices=["day", "hour"], default="day")
    periods = serializers.IntegerField(min_value=1, max_value=168, required=False)
    capability = serializers.ChoiceField(choices=Capability.choices, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)


class UsagePointOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    label = serializers.CharField()  # type: ignore[assignment]
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]
    throttled = serializers.IntegerField()
    avg_latency_ms = serializers.FloatField(allow_null=True)
    p95_latency_ms = serializers.FloatField(allow_null=True, help_text="from the histogram")


class CapabilityTotalOutput(serializers.Serializer):
    capability = serializers.CharField()
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]
    avg_latency_ms = serializers.FloatField(allow_null=True)
    p95_latency_ms = serializers.FloatField(allow_null=True)


class UsageOutput(serializers.Serializer):
    granularity = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    capability = serializers.CharField(allow_null=True)
    environment = serializers.CharField(allow_null=True)
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]
    points = UsagePointOutput(many=True)
    by_capability = CapabilityTotalOutput(many=True)
