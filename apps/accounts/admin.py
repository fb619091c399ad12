"""Workbench pages for users, roles, real-name identities, SMS codes and API tokens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.utils.translation import gettext_lazy as _

from apps.accounts import services, staff_auth
from apps.accounts.models import ApiToken, OtpChallenge, RealNameIdentity, User
from apps.accounts.second_factor import (
    recent_second_factor_required,
    second_factor_recent,
    second_factor_redirect,
)
from apps.core.phone import InvalidPhoneNumber, normalize_phone


class RealNameInline(admin.StackedInline):
    model = RealNameIdentity
    can_delete = False
    fields = ["name", "id_number_masked", "method", "verified_at"]
    readonly_fields = ["name", "id_number_masked", "method", "verified_at"]

    def has_add_permission(self, request, obj=None):
        return False


class PhoneField(forms.CharField):
    """The workbench accepts 13800138000 or +86 138 0013 8000 and stores E.164."""

    def clean(self, value: Any) -> str:
        try:
            return normalize_phone(super().clean(value))
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(exc.message) from exc


class UserAddForm(AdminUserCreationForm):
    phone = PhoneField(label=_("Mobile number"))

    class Meta:
        model = User
        fields = ["phone"]


class UserChangeForm(DjangoUserChangeForm):
    phone = PhoneField(label=_("Mobile number"))

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserAddForm
    form = UserChangeForm
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
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("phone", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        # Only superusers grant staff status, superuser status, roles or permissions.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_change_permission(self, request, obj=None):
        # Staff accounts (superusers above all) are changed by superusers only: phone, password,
        # active flag, roles. Otherwise an operator could move a superuser's phone or password
        # to one they hold and sign in as them.
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Any change to an account (roles, staff status, phone, active) wants a fresh code.
        if request.method == "POST" and not second_factor_recent(request):
            return second_factor_redirect(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def user_change_password(self, request, id, form_url=""):
        if request.method == "POST" and not second_factor_recent(request):
            return second_factor_redirect(request)
        return super().user_change_password(request, id, form_url)

    actions = ["reset_second_factor"]

    def has_reset_second_factor_permission(self, request) -> bool:
        return request.user.is_superuser

    @admin.action(
        description=_("Reset the authenticator of selected staff (they enrol again)"),
        permissions=["reset_second_factor"],
    )
    @recent_second_factor_required
    def reset_second_factor(self, request, queryset):
        """A lost phone: forget the staff member's authenticator and recovery codes (audited
        ``staff.totp_reset``); they set up a new one at their next sign-in."""
        reset = [
            user.phone
            for user in queryset.filter(is_staff=True)
            if staff_auth.totp_reset(user_id=user.pk, actor_id=request.user.pk)
        ]
        self.message_user(
            request, _("Authenticators reset: %(users)s") % {"users": ", ".join(reset) or "-"}
        )

    def get_inlines(self, request, obj):
        # A new user has no identity yet; it is registered by the user, not typed in here.
        return [RealNameInline] if obj else []

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
    readonly_fields = [
        "user",
        "prefix",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke selected tokens now"))
    def revoke(self, request, queryset):
        count = services.api_tokens_revoke(
            token_ids=list(queryset.values_list("pk", flat=True)), actor_id=request.user.pk
        )
        self.message_user(request, _("%(n)d tokens revoked.") % {"n": count})
