"""Workbench sign-in: password plus an authenticator code, enrolment, recovery codes, re-checks."""

import re

import pyotp
import pytest
from django.contrib.auth.models import Group

from apps.accounts import staff_auth
from apps.accounts.models import StaffRecoveryCode, StaffTotpDevice, User
from apps.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]
LOGIN = "/admin/login/"


@pytest.fixture
def staff():
    user = User.objects.create_user("13800000020", "staff-pw-2026", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    return user


def _enrolled(user) -> pyotp.TOTP:
    secret = staff_auth.totp_enrol_start(user_id=user.pk)
    totp = pyotp.TOTP(secret)
    staff_auth.totp_enrol_confirm(user_id=user.pk, code=totp.now())
    StaffTotpDevice.objects.filter(user=user).update(last_step=0)  # the code may be used again
    return totp


def test_an_sms_session_does_not_open_the_workbench(client, staff):
    client.force_login(staff)  # what the SMS sign-in does
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_password_alone_does_not_sign_in_an_enrolled_staff_member(client, staff):
    _enrolled(staff)
    response = client.post(LOGIN, {"phone": "13800000020", "password": "staff-pw-2026"})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302
    failure = AuditEvent.objects.get(action="staff.sign_in_failed")
    assert failure.after["ip"] == "127.0.0.1"


def test_password_and_code_sign_in_with_an_audit_event(client, staff, settings):
    totp = _enrolled(staff)
    response = client.post(
        LOGIN,
        {"phone": "138 0000 0020", "password": "staff-pw-2026", "code": totp.now()},
        headers={"User-Agent": "pytest-browser"},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_SECONDS
    event = AuditEvent.objects.get(action="staff.signed_in")
    assert (event.actor_id, event.after["ip"], event.after["user_agent"]) == (
        staff.pk,
        "127.0.0.1",
        "pytest-browser",
    )


def test_a_wrong_password_or_code_is_refused_and_audited(client, staff):
    totp = _enrolled(staff)
    wrong_code = "000000" if totp.now() != "000000" else "111111"
    assert (
        client.post(
            LOGIN, {"phone": "13800000020", "password": "nope", "code": totp.now()}
        ).status_code
        == 400
    )
    assert (
        client.post(
            LOGIN, {"phone": "13800000020", "password": "staff-pw-2026", "code": wrong_code}
        ).status_code
        == 400
    )
    assert AuditEvent.objects.filter(action="staff.sign_in_failed").count() == 2
    assert not AuditEvent.objects.filter(action="staff.signed_in").exists()
    assert client.get("/admin/").status_code == 302


def test_first_sign_in_enrols_and_shows_recovery_codes_once(client, staff):
    response = client.post(LOGIN, {"phone": "13800000020", "password": "staff-pw-2026"})
    assert response.status_code == 302
    enrol = client.get(response["Location"])
    assert enrol.status_code == 200
    assert b"<svg" in enrol.content
    secret = StaffTotpDevice.objects.get(user=staff)
    totp = pyotp.TOTP(staff_auth.totp_secret(user_id=staff.pk))
    assert secret.confirmed_at is None
    done = client.post(response["Location"], {"code": totp.now()})
    assert done.status_code == 200
    codes = re.findall(r"\b[a-z0-9]{5}-[a-z0-9]{5}\b", done.content.decode())
    assert len(codes) == 10
    stored = set(StaffRecoveryCode.objects.filter(user=staff).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & stored  # stored hashed only
    assert client.get("/admin/").status_code == 200
    # A recovery code signs in once.
    client.logout()
    ok = client.post(LOGIN, {"phone": "13800000020", "password": "staff-pw-2026", "code": codes[0]})
    assert ok.status_code == 302
    client.logout()
    again = client.post(
        LOGIN, {"phone": "13800000020", "password": "staff-pw-2026", "code": codes[0]}
    )
    assert again.status_code == 400


def test_a_totp_code_is_accepted_once(staff):
    totp = _enrolled(staff)
    code = totp.now()
    assert staff_auth.second_factor_verify(user_id=staff.pk, code=code)
    assert not staff_auth.second_factor_verify(user_id=staff.pk, code=code)


def _refund():
    from datetime import timedelta

    from django.utils import timezone

    from apps.payments.models import PaymentIntent, Refund

    intent = PaymentIntent.objects.create(
        public_id="PI-2FA", purpose="test", reference="r", method="alipay", amount_fen=500, status="succeeded",
        idempotency_key="k", expires_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    return Refund.objects.create(
        public_id="RF-2FA", intent=intent, amount_fen=100, reason="t", request_key="rk"
    )


def test_refund_approval_needs_a_recent_second_factor(client, staff, settings):
    totp = _enrolled(staff)
    client.post(LOGIN, {"phone": "13800000020", "password": "staff-pw-2026", "code": totp.now()})
    session = client.session
    session["staff_2fa_at"] = session["staff_2fa_at"] - settings.STAFF_REAUTH_SECONDS - 1
    session.save()
    refund = _refund()
    approve = {"action": "approve", "_selected_action": [str(refund.pk)]}
    response = client.post("/admin/payments/refund/", approve)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/staff/verify/")
    refund.refresh_from_db()
    assert (refund.status, refund.decided_by_id) == ("requested", None)
    StaffTotpDevice.objects.filter(user=staff).update(last_step=0)
    verified = client.post(response["Location"], {"code": totp.now()})
    assert verified.status_code == 302
    again = client.post("/admin/payments/refund/", approve)
    assert not again.get("Location", "").startswith("/accounts/staff/verify/")
    refund.refresh_from_db()
    assert refund.decided_by_id == staff.pk


def test_role_changes_need_a_recent_second_factor(client, settings):
    boss = User.objects.create_superuser("13800000029", "boss-pw-2026")
    totp = _enrolled(boss)
    client.post(LOGIN, {"phone": "13800000029", "password": "boss-pw-2026", "code": totp.now()})
    session = client.session
    session["staff_2fa_at"] = session["staff_2fa_at"] - settings.STAFF_REAUTH_SECONDS - 1
    session.save()
    target = User.objects.create_user("13800000028")
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "phone": target.phone,
            "is_active": "on",
            "is_staff": "on",
            "real_name-TOTAL_FORMS": "0",
            "real_name-INITIAL_FORMS": "0",
        },
    )
    assert response["Location"].startswith("/accounts/staff/verify/")
    target.refresh_from_db()
    assert not target.is_staff


def test_the_demo_operator_signs_in_with_the_printed_code(client, settings):
    from io import StringIO

    from django.core.management import call_command

    from apps.demo.seed import DEMO_PASSWORD, seed_users

    settings.TOTP_CODE_COMMAND = True
    seed_users()
    out = StringIO()
    call_command("totp_code", "13800000000", stdout=out)
    code = out.getvalue().strip()
    response = client.post(LOGIN, {"phone": "13800000000", "password": DEMO_PASSWORD, "code": code})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_totp_code_is_refused_outside_the_demo(settings):
    from django.core.management import CommandError, call_command

    settings.TOTP_CODE_COMMAND = False
    with pytest.raises(CommandError):
        call_command("totp_code", "13800000000")


def test_the_re_check_does_not_upgrade_an_sms_session(client, staff):
    totp = _enrolled(staff)
    client.force_login(staff)  # SMS sign-in: no password was given
    response = client.post("/accounts/staff/verify/", {"code": totp.now()})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get("/admin/").status_code == 302
