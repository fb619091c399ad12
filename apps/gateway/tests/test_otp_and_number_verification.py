"""One-time-password SMS and number verification through the pipeline against the sandbox."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.carrier.models import SmsMessage
from apps.gateway.models import OtpCode
from apps.gateway.tests.capability_support import device_token
from apps.gateway.tests.support import SignedClient, gateway_app_create
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def otp_client(db):
    return SignedClient(gateway_app_create(capabilities=["one-time-password-sms"]))


def _code_sent_to(sandbox, msisdn: str) -> str:
    text = sandbox.messages(msisdn)[0]["text"]
    match = re.search(r"\d{6}", text)
    assert match is not None
    return match.group(0)


def test_a_code_is_sent_and_validated_once(carrier_sandbox, otp_client):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")

    sent = otp_client.post(
        "/one-time-password-sms/v1/send-code",
        {"phoneNumber": msisdn, "message": "{{code}} is your Cool App code"},
    )
    code = _code_sent_to(carrier_sandbox, msisdn)
    ok = otp_client.post(
        "/one-time-password-sms/v1/validate-code",
        {"authenticationId": sent.json()["authenticationId"], "code": code},
    )
    again = otp_client.post(
        "/one-time-password-sms/v1/validate-code",
        {"authenticationId": sent.json()["authenticationId"], "code": code},
    )

    assert sent.status_code == 200
    assert carrier_sandbox.messages(msisdn)[0]["text"] == f"{code} is your Cool App code"
    row = OtpCode.objects.get(pk=sent.json()["authenticationId"])
    assert code not in row.code_hash
    assert SmsMessage.objects.get(msisdn=msisdn).preview == "****** is your Cool App code"
    assert ok.status_code == 204
    assert (again.status_code, again.json()["code"]) == (
        400,
        "ONE_TIME_PASSWORD_SMS.VERIFICATION_EXPIRED",
    )


def test_three_wrong_codes_fail_the_verification(carrier_sandbox, otp_client):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    auth = otp_client.post(
        "/one-time-password-sms/v1/send-code", {"phoneNumber": msisdn, "message": "{{code}}"}
    ).json()["authenticationId"]
    code = _code_sent_to(carrier_sandbox, msisdn)
    wrong = "000000" if code != "000000" else "111111"

    answers = [
        otp_client.post(
            "/one-time-password-sms/v1/validate-code", {"authenticationId": auth, "code": c}
        )
        for c in (wrong, wrong, wrong, code)
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (400, "ONE_TIME_PASSWORD_SMS.INVALID_OTP"),
        (400, "ONE_TIME_PASSWORD_SMS.INVALID_OTP"),
        (400, "ONE_TIME_PASSWORD_SMS.VERIFICATION_FAILED"),
        (400, "ONE_TIME_PASSWORD_SMS.VERIFICATION_FAILED"),
    ]
    assert answers[0].json()["details"] == {"attemptsLeft": 2}
    assert OtpCode.objects.get(pk=auth).status == "failed"


def test_an_expired_code_and_another_apps_code(carrier_sandbox, otp_client):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    auth = otp_client.post(
        "/one-time-password-sms/v1/send-code", {"phoneNumber": msisdn, "message": "{{code}}"}
    ).json()["authenticationId"]
    code = _code_sent_to(carrier_sandbox, msisdn)
    other_app = SignedClient(gateway_app_create(capabilities=["one-time-password-sms"]))

    foreign = other_app.post(
        "/one-time-password-sms/v1/validate-code", {"authenticationId": auth, "code": code}
    )
    OtpCode.objects.filter(pk=auth).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = otp_client.post(
        "/one-time-password-sms/v1/validate-code", {"authenticationId": auth, "code": code}
    )

    assert (foreign.status_code, foreign.json()["code"]) == (404, "NOT_FOUND")
    assert (expired.status_code, expired.json()["code"]) == (
        400,
        "ONE_TIME_PASSWORD_SMS.VERIFICATION_EXPIRED",
    )
    assert OtpCode.objects.get(pk=auth).status == "pending"


def test_too_many_codes_for_one_number(carrier_sandbox, otp_client, settings):
    settings.GATEWAY_OTP_MAX_PER_NUMBER_HOUR = 2
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    body = {"phoneNumber": msisdn, "message": "{{code}}"}

    answers = [otp_client.post("/one-time-password-sms/v1/send-code", body) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 403]
    assert answers[2].json()["code"] == "ONE_TIME_PASSWORD_SMS.MAX_OTP_CODES_EXCEEDED"
    assert OtpCode.objects.filter(msisdn=msisdn).count() == 2
    assert len(carrier_sandbox.messages(msisdn)) == 2


@pytest.mark.parametrize(
    ("status", "msisdn", "code"),
    [
        ("suspended", None, "ONE_TIME_PASSWORD_SMS.PHONE_NUMBER_BLOCKED"),
        (None, "+8613912345673", "ONE_TIME_PASSWORD_SMS.PHONE_NUMBER_NOT_ALLOWED"),
    ],
)
def test_blocked_and_unknown_lines_get_no_code(carrier_sandbox, otp_client, status, msisdn, code):
    if msisdn is None:
        msisdn = unique_msisdn()
        carrier_sandbox.put_subscriber(msisdn, status=status)

    answer = otp_client.post(
        "/one-time-password-sms/v1/send-code", {"phoneNumber": msisdn, "message": "{{code}}"}
    )

    assert (answer.status_code, answer.json()["code"]) == (403, code)
    assert OtpCode.objects.count() == 0


def test_a_template_without_the_code_is_refused(carrier_sandbox, otp_client):
    answer = otp_client.post(
        "/one-time-password-sms/v1/send-code",
        {"phoneNumber": "+8613800138000", "message": "no code here"},
    )

    assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_ARGUMENT")


# --- Number verification ---------------------------------------------------------------------


@pytest.fixture
def nv_client(db):
    return SignedClient(gateway_app_create(capabilities=["number-verification"]))


def test_verify_plain_and_hashed_with_the_device_token(carrier_sandbox, nv_client):
    msisdn = unique_msisdn()
    carrier_sandbox.put_subscriber(msisdn, status="active")
    headers = {"X-Device-Token": device_token(carrier_sandbox, msisdn)}
    hashed = hashlib.sha256(msisdn.encode()).hexdigest()

    same = nv_client.post(
        "/number-verification/v2/verify", {"phoneNumber": msisdn}, headers=headers
    )
    other = nv_client.post(
        "/number-verification/v2/verify", {"phoneNumber": "+8613800138000"}, headers=headers
    )
    by_hash = nv_client.post(
        "/number-verification/v2/verify", {"hashedPhoneNumber": hashed.upper()}, headers=headers
    )
    number = nv_client.get("/number-verification/v2/device-phone-number", headers=headers)

    assert (same.status_code, same.json()) == (200, {"devicePhoneNumberVerified": True})
    assert other.json() == {"devicePhoneNumberVerified": False}
    assert by_hash.json() == {"devicePhoneNumberVerified": True}
    assert (number.status_code, number.json()) == (200, {"devicePhoneNumber": msisdn})


@pytest.mark.parametrize(
    ("body", "token", "status", "code"),
    [
        ({"phoneNumber": "+8613800138000"}, None, 403, "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"),
        ({"phoneNumber": "+8613800138000"}, "dt_forged", 403, "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"),
        ({}, "dt_x", 400, "INVALID_ARGUMENT"),
        ({"phoneNumber": "+8613800138000", "hashedPhoneNumber": "a" * 64}, "dt_x", 400, "INVALID_ARGUMENT"),
        ({"hashedPhoneNumber": "xyz"}, "dt_x", 400, "INVALID_ARGUMENT"),
    ],
)  # fmt: skip
def test_verify_refusals(carrier_sandbox, nv_client, body, token, status, code):
    headers = {"X-Device-Token": token} if token else {}

    answer = nv_client.post("/number-verification/v2/verify", body, headers=headers)

    assert (answer.status_code, answer.json()["code"]) == (status, code)
