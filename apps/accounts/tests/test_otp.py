"""SMS one-time codes: issue, sign in, expiry, wrong codes, tries, cooldown and send limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import services
from apps.accounts.errors import (
    AccountDisabled,
    OtpAlreadyUsed,
    OtpAttemptsExceeded,
    OtpCooldown,
    OtpExpired,
    OtpInvalid,
    OtpIpLimit,
    OtpNotRequested,
    OtpNumberLimit,
)
from apps.accounts.models import OtpChallenge, User
from apps.carrier.models import SmsMessage
from apps.core.errors import ServiceUnavailable
from apps.core.models import AuditEvent

PHONE = "+8613800138000"
pytestmark = pytest.mark.django_db


def _age(challenge: OtpChallenge, seconds: int) -> None:
    OtpChallenge.objects.filter(pk=challenge.pk).update(
        created_at=challenge.created_at - timedelta(seconds=seconds),
        expires_at=challenge.expires_at - timedelta(seconds=seconds),
    )


def test_request_stores_only_a_hash_and_queues_a_masked_sms():
    issued = services.otp_request(phone="13800138000", ip="10.0.0.1")

    challenge = OtpChallenge.objects.get()
    assert issued.phone == PHONE
    assert len(issued.code) == 6 and issued.code.isdigit()
    assert issued.code not in challenge.code_hash
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=5)
    sms = SmsMessage.objects.get(pk=challenge.sms_id)
    assert sms.msisdn == PHONE
    assert sms.purpose == "otp"
    assert issued.code not in sms.preview and "******" in sms.preview


def test_first_sign_in_registers_a_consumer_and_a_code_works_once():
    issued = services.otp_request(phone=PHONE, ip=None)

    signed_in = services.otp_sign_in(phone="138 0013 8000", code=issued.code)

    user = User.objects.get(pk=signed_in.user_id)
    assert signed_in.created is True
    assert user.phone == PHONE
    assert list(user.groups.values_list("name", flat=True)) == ["consumer"]
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(action="user.registered", object_id=str(user.pk)).count() == 1
    with pytest.raises(OtpAlreadyUsed):  # used once: said so, not "never sent"
        services.otp_sign_in(phone=PHONE, code=issued.code)


def test_second_sign_in_finds_the_same_user():
    first = services.otp_sign_in(phone=PHONE, code=services.otp_request(phone=PHONE, ip=None).code)
    _age(OtpChallenge.objects.get(), 120)
    again = services.otp_sign_in(phone=PHONE, code=services.otp_request(phone=PHONE, ip=None).code)
    assert again.user_id == first.user_id
    assert again.created is False
    assert User.objects.count() == 1


def test_wrong_code_counts_tries_and_the_fifth_locks_the_code():
    issued = services.otp_request(phone=PHONE, ip=None)
    wrong = "000000" if issued.code != "000000" else "111111"

    for left in (4, 3, 2, 1):
        with pytest.raises(OtpInvalid) as info:
            services.otp_sign_in(phone=PHONE, code=wrong)
        assert info.value.details == {"attempts_left": left}
    with pytest.raises(OtpAttemptsExceeded):
        services.otp_sign_in(phone=PHONE, code=wrong)
    # Even the right code is refused now, and nobody was registered.
    with pytest.raises(OtpAttemptsExceeded):
        services.otp_sign_in(phone=PHONE, code=issued.code)
    assert OtpChallenge.objects.get().attempts == 5
    assert not User.objects.exists()


def test_expired_code_is_refused():
    issued = services.otp_request(phone=PHONE, ip=None)
    _age(OtpChallenge.objects.get(), 301)
    with pytest.raises(OtpExpired):
        services.otp_sign_in(phone=PHONE, code=issued.code)
    assert not User.objects.exists()


def test_no_code_requested():
    with pytest.raises(OtpNotRequested):
        services.otp_sign_in(phone=PHONE, code="123456")


def test_resend_inside_cooldown_is_refused_with_retry_after():
    services.otp_request(phone=PHONE, ip=None)
    with pytest.raises(OtpCooldown) as info:
        services.otp_request(phone=PHONE, ip=None)
    assert 1 <= info.value.retry_after <= 61
    assert OtpChallenge.objects.count() == 1
    assert SmsMessage.objects.count() == 1


def test_a_new_code_supersedes_the_old_one():
    old = services.otp_request(phone=PHONE, ip=None)
    _age(OtpChallenge.objects.get(), 61)
    new = services.otp_request(phone=PHONE, ip=None)
    if old.code != new.code:
        with pytest.raises(OtpInvalid):
            services.otp_sign_in(phone=PHONE, code=old.code)
    assert services.otp_sign_in(phone=PHONE, code=new.code).created


def test_hourly_limit_per_number(settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_MAX_SENDS_PER_NUMBER_PER_HOUR = 3
    for _ in range(3):
        services.otp_request(phone=PHONE, ip=None)
    with pytest.raises(OtpNumberLimit) as info:
        services.otp_request(phone=PHONE, ip=None)
    assert info.value.retry_after > 0
    assert OtpChallenge.objects.count() == 3


def test_hourly_limit_per_ip(settings):
    settings.OTP_MAX_SENDS_PER_IP_PER_HOUR = 2
    services.otp_request(phone="13800138001", ip="192.0.2.9")
    services.otp_request(phone="13800138002", ip="192.0.2.9")
    with pytest.raises(OtpIpLimit):
        services.otp_request(phone="13800138003", ip="192.0.2.9")
    # Another address is not affected.
    services.otp_request(phone="13800138003", ip="192.0.2.10")
    assert OtpChallenge.objects.count() == 3


def test_redis_down_refuses_to_send(redis_down):
    with pytest.raises(ServiceUnavailable):
        services.otp_request(phone=PHONE, ip=None)
    assert not OtpChallenge.objects.exists()
    assert not SmsMessage.objects.exists()


def test_disabled_account_cannot_sign_in():
    User.objects.create_user(PHONE, is_active=False)
    issued = services.otp_request(phone=PHONE, ip=None)
    with pytest.raises(AccountDisabled):
        services.otp_sign_in(phone=PHONE, code=issued.code)
    assert OtpChallenge.objects.get().consumed_at is None


def test_expiry_clock_uses_now():
    issued = services.otp_request(phone=PHONE, ip=None)
    assert issued.expires_at > timezone.now()


def test_refusals_by_ip_do_not_use_up_the_numbers_limit(settings):
    settings.OTP_MAX_SENDS_PER_IP_PER_HOUR = 1
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    services.otp_request(phone="13800138001", ip="192.0.2.1")
    for _ in range(6):
        with pytest.raises(OtpIpLimit):
            services.otp_request(phone=PHONE, ip="192.0.2.1")
    # From another network the number can still get its code.
    services.otp_request(phone=PHONE, ip="192.0.2.2")
    assert OtpChallenge.objects.filter(phone=PHONE).count() == 1
