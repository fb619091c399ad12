"""Workbench views of outbound SMS (read-only: the carrier's reports change them)."""

from django.contrib import admin

from apps.carrier.models import SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "msisdn", "purpose", "status", "segments", "error_code"]
    list_filter = ["status", "purpose"]
    search_fields = ["msisdn", "carrier_message_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
