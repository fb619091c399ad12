"""Users keyed by mobile number, their real-name identity, SMS one-time codes and API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.errors import InvalidPhoneNumber
from apps.accounts.validators import display_phone, normalize_phone


class Role(models.TextChoices):
    """Roles are auth groups with these names (created by migration 0002)."""

    CONSUMER = "consumer", _("Consumer")
    CONTENT_PROVIDER = "content_provider", _("Content provider")
    PARTNER = "partner", _("Partner")
    CHANNEL = "channel", _("Channel partner")
    OPERATOR = "operator", _("Operator")
    FINANCE = "finance", _("Finance")
    ENTERPRISE = "enterprise", _("Enterprise")
    # Workbench roles (groups created by ``roles_sync`` after migrate, with their permissions).
    RISK = "risk", _("Risk")
    CP_REVIEWER = "cp_reviewer", _("Content provider reviewer")
    PARTNER_REVIEWER = "partner_reviewer", _("Partner reviewer")


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # The admin's login form passes whatever was typed: 13800138000 or +86 138 0013 8000.
        try:
            phone = normalize_phone(username or "")
        except InvalidPhoneNumber:
            phone = username or ""
        return self.get(phone=phone)

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(phone=normalize_phone(phone), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person known by a mobile number; consumers sign in by SMS code, staff also by password."""

    phone = models.CharField(_("mobile number"), max_length=20, unique=True, help_text="E.164")
    nickname = models.CharField(_("nickname"), max_length=40, blank=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return display_phone(self.phone)

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)


class RealNameIdentity(models.Model):
    """A user's real-name registration. The ID number is encrypted; pages show it masked."""

    class Method(models.TextChoices):
        CHECKSUM = "checksum", _("ID number checksum")
        CARRIER = "carrier", _("Verified by the carrier")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="real_name")
    name = models.CharField(_("name"), max_length=30)
    id_number_encrypted = models.TextField()
    # Keyed hash: one identity number belongs to one account, found without decrypting.
    id_number_hash = models.CharField(max_length=64, unique=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    method = models.CharField(max_length=16, choices=Method.choices)
    verified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("real-name identity")
        verbose_name_plural = _("real-name identities")

    def __str__(self) -> str:
        return f"{self.name[0]}* {self.id_number_masked}"

    @property
    def masked_name(self) -> str:
        return self.name[0] + "*" * (len(self.name) - 1)


class OtpChallenge(models.Model):
    """One SMS code sent to a number. The code is stored only as a keyed hash."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Sign in or register")
        RISK = "risk", _("Confirm a payment risk control questioned")

    phone = models.CharField(max_length=20, verbose_name=_("phone"))
    purpose = models.CharField(
        max_length=16, choices=Purpose.choices, default=Purpose.LOGIN, verbose_name=_("purpose")
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    consumed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("consumed at"))
    superseded = models.BooleanField(default=False, verbose_name=_("superseded"))
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip"))
    sms_id = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"])]
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")

    def __str__(self) -> str:
        return f"{self.phone} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for apps. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(max_length=64, blank=True, verbose_name=_("name"))
    prefix = models.CharField(max_length=8, db_index=True, verbose_name=_("prefix"))
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class StaffTotpDevice(models.Model):
    """A staff member's authenticator app (TOTP, RFC 6238): the workbench's second factor.

    The secret is encrypted at rest; ``last_step`` makes each code usable once.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")

    def __str__(self) -> str:
        return f"{self.user} ({'confirmed' if self.confirmed_at else 'enrolling'})"


class StaffRecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator; stored only as a keyed hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "code_hash"], name="accounts_recovery_code_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} recovery code"


class Address(models.Model):
    """A delivery address in a user's address book; at most one is the default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    name = models.CharField(_("recipient"), max_length=30)
    phone = models.CharField(_("contact number"), max_length=20)
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=20)
    district = models.CharField(_("district"), max_length=20, blank=True)
    detail = models.CharField(_("street address"), max_length=120)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-id"]
        verbose_name = _("delivery address")
        verbose_name_plural = _("delivery addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="accounts_one_default_address",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.province}{self.city}{self.district}{self.detail}"


class WechatBinding(models.Model):
    """A WeChat official-account follower (``openid``) bound to a user after the user proved
    the number by SMS code: one openid to one user, and one user to one openid."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="wechat_binding")
    openid = models.CharField(max_length=64, unique=True)
    bound_at = models.DateTimeField(default=timezone.now)

    objects: models.Manager[WechatBinding] = models.Manager()

    class Meta:
        verbose_name = _("WeChat binding")
        verbose_name_plural = _("WeChat bindings")

    def __str__(self) -> str:
        return f"{self.openid} → {self.user_id}"
