"""Workbench pages for users, roles, real-name identities, SMS codes and API tokens."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import ApiToken, OtpChallenge, RealNameIdentity, User


class RealNameInline(admin.StackedInline):
    model = RealNameIdentity
    can_delete = False
    fields = ["name", "id_number_masked", "method", "verified_at"]
    readonly_fields = ["name", "id_number_masked", "method", "verified_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "phone",
        "nickname",
        "roles",
        "is_staff",
        "is_active",
        "date_joined",
        "last_login",
    ]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["phone", "nickname"]
    inlines = [RealNameInline]
    fieldsets = (
        (None, {"fields": ("phone", "password", "nickname")}),
        (
            _("Roles and permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )  # fmt: skip
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("Roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all()))


@admin.register(OtpChallenge)
class OtpChallengeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "phone", "purpose", "attempts", "consumed_at", "superseded", "ip"]
    list_filter = ["purpose", "superseded"]
    search_fields = ["phone"]
    date_hierarchy = "created_at"
    exclude = ["code_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    search_fields = ["user__phone", "prefix"]
    exclude = ["key_hash"]
    readonly_fields = ["user", "prefix", "name", "created_at", "expires_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke selected tokens now"))
    def revoke(self, request, queryset):
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
