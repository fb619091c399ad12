"""Network capabilities and identity: SIM changes, device tokens, voice calls, the ID register."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models


class SimChange(models.Model):
    """A new SIM card put on a line (a SIM swap), as the HLR records it."""

    msisdn = models.CharField(max_length=16)
    changed_at = models.DateTimeField()
    iccid = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[SimChange] = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["msisdn", "-changed_at"], name="sandbox_simchange_latest")]

    def __str__(self) -> str:
        return f"{self.msisdn} {self.changed_at:%Y-%m-%d %H:%M}"


class DeviceToken(models.Model):
    """A token the network gave a device it recognised on its data bearer (stored hashed)."""

    token_hash = models.CharField(max_length=64, unique=True)
    msisdn = models.CharField(max_length=16)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[DeviceToken] = models.Manager()

    def __str__(self) -> str:
        return f"device token for {self.msisdn}"


class VoiceCall(models.Model):
    """A click-to-dial call: the network rings the caller's and callee's lines and bridges them."""

    class Status(models.TextChoices):
        INITIATED = "initiated", "已发起"
        RINGING = "ringing", "振铃中"
        ANSWERED = "answered", "通话中"
        COMPLETED = "completed", "已结束"
        BUSY = "busy", "忙线"
        NO_ANSWER = "no-answer", "无人接听"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    call_id = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    caller = models.CharField(max_length=16)
    callee = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INITIATED)
    reason = models.CharField(max_length=32, blank=True)
    reference = models.CharField(max_length=128, blank=True)
    callback_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects: models.Manager[VoiceCall] = models.Manager()

    def __str__(self) -> str:
        return f"{self.call_id} {self.status}"


class CallBehaviour(models.Model):
    """How a number answers calls in the sandbox (tests and the demo set it per callee)."""

    class Outcome(models.TextChoices):
        ANSWER = "answer", "接听"
        BUSY = "busy", "忙线"
        NO_ANSWER = "no-answer", "不接听"

    msisdn = models.CharField(max_length=16, unique=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.ANSWER)
    ring_ms = models.PositiveIntegerField(default=1000, validators=[MaxValueValidator(60_000)])
    talk_ms = models.PositiveIntegerField(default=2000, validators=[MaxValueValidator(600_000)])

    objects: models.Manager[CallBehaviour] = models.Manager()

    def __str__(self) -> str:
        return f"{self.msisdn} {self.outcome}"


class IdentityRecord(models.Model):
    """What the national identity register (NCIIC, asked through the carrier) knows of one ID.

    IDs not recorded here are taken as genuine under the name given; a record makes a wrong name
    fail and can count numbers the person holds at other carriers.
    """

    id_number_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField("姓名", max_length=30)
    other_numbers = models.PositiveSmallIntegerField("其他运营商号码数", default=0)

    objects: models.Manager[IdentityRecord] = models.Manager()

    def __str__(self) -> str:
        return f"{self.name[:1]}* {self.id_number_hash[:8]}"


class SimRegistration(models.Model):
    """A line the BOSS opened for a new SIM card under its owner's identity (once per key)."""

    request_id = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    request_hash = models.CharField(max_length=64)
    msisdn = models.CharField(max_length=20, unique=True)
    owner_name = models.CharField(max_length=30)
    id_number_hash = models.CharField(max_length=64, db_index=True)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: models.Manager[SimRegistration] = models.Manager()

    def __str__(self) -> str:
        return f"{self.msisdn} {self.request_id}"


class DeviceState(models.Model):
    """What the network knows of a line's device now (the HLR/HSS and the location server):
    roaming, reachability and position. A line without a row is at home, reachable by data
    and SMS, at its home city's centre."""

    msisdn = models.CharField(max_length=16, unique=True)
    roaming_country_code = models.PositiveSmallIntegerField(null=True, blank=True)  # MCC
    roaming_country_name = models.CharField(max_length=8, blank=True)  # ISO 3166 alpha-2
    reachable_data = models.BooleanField(default=True)
    reachable_sms = models.BooleanField(default=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(default=500)
    # False: the location server has never located the device (switched off since joining).
    locatable = models.BooleanField(default=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: models.Manager[DeviceState] = models.Manager()

    def __str__(self) -> str:
        return f"device of {self.msisdn}"


class RealNameRecord(models.Model):
    """The carrier's real-name register entry of a line (实名登记): who registered it. Matched
    against what a partner holds (KYC match); never handed out."""

    msisdn = models.CharField(max_length=16, unique=True)
    id_document = models.CharField(max_length=32)
    name = models.CharField(max_length=60)
    given_name = models.CharField(max_length=30, blank=True)
    family_name = models.CharField(max_length=30, blank=True)
    birthdate = models.DateField()
    address = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=32, blank=True)
    locality = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=2, default="CN")
    email = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=8, blank=True)
    # Whether the carrier verified the record against an ID document in a shop.
    verified = models.BooleanField(default=True)
    parental_control = models.BooleanField(default=False)
    content_lock = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects: models.Manager[RealNameRecord] = models.Manager()

    def __str__(self) -> str:
        return f"real-name record of {self.msisdn}"
