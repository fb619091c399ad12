"""Wrong authenticator or recovery codes lock the sign-in (per staff member and per address,
for a window, audited); a superuser resets a staff member's authenticator from the workbench
(audited, after a fresh code of their own)."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts import staff_auth
from apps.accounts.models import StaffTotpDevice, User
from apps.core.models import AuditEvent
from tests.test_staff_sign_in import LOGIN, _enrolled

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


@pytest.fixture
def staff():
    user = User.objects.create_user("13800000020", "staff-pw-2026", is_staff=True)
    user.groups.add(Group.objects.get(name="finance"))
    return user


def _try(client, code: str, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"phone": "13800000020", "password": "staff-pw-2026", "code": code},
                       REMOTE_ADDR=ip)  # fmt: skip


def test_wrong_codes_lock_the_staff_member_even_with_the_right_code_then(client, staff, settings):
    settings.STAFF_CODE_MAX_WRONG = 3
    totp = _enrolled(staff)
    for _ in range(3):
        assert _try(client, "000000").status_code == 400
    locked = _try(client, totp.now())
    assert locked.status_code == 429
    assert client.get("/admin/").status_code == 302
    assert (
        AuditEvent.objects.filter(
            action="staff.second_factor_locked", object_id=str(staff.pk)
        ).count()
        == 1
    )
    # From another address too: the lock is the staff member's.
    assert _try(client, totp.now(), ip="203.0.113.9").status_code == 429


def test_wrong_codes_from_one_address_lock_that_address(client, staff, settings):
    settings.STAFF_CODE_MAX_WRONG = 100
    settings.STAFF_CODE_MAX_WRONG_PER_IP = 2
    other = User.objects.create_user("13800000021", "other-pw-2026", is_staff=True)
    _enrolled(other)
    totp = _enrolled(staff)
    for phone, password in (("13800000021", "other-pw-2026"), ("13800000021", "other-pw-2026")):
        client.post(LOGIN, {"phone": phone, "password": password, "code": "000000"})
    assert _try(client, totp.now()).status_code == 429
    assert _try(client, totp.now(), ip="203.0.113.9").status_code == 302


def test_the_re_check_counts_wrong_codes_too(client, staff, settings):
    settings.STAFF_CODE_MAX_WRONG = 2
    totp = _enrolled(staff)
    assert _try(client, totp.now()).status_code == 302
    StaffTotpDevice.objects.filter(user=staff).update(last_step=0)
    for _ in range(2):
        client.post("/accounts/staff/verify/", {"code": "000000"})
    assert client.post("/accounts/staff/verify/", {"code": totp.now()}).status_code == 429


def test_a_superuser_resets_an_authenticator_after_a_fresh_code(client, staff, settings):
    _enrolled(staff)
    boss = User.objects.create_superuser("13800000009", "boss-pw-2026")
    boss_totp = _enrolled(boss)
    client.post(
        LOGIN, {"phone": "13800000009", "password": "boss-pw-2026", "code": boss_totp.now()}
    )
    settings.STAFF_REAUTH_SECONDS = 0  # the sign-in's code is no longer fresh
    action = {"action": "reset_second_factor", "_selected_action": [staff.pk]}
    stale = client.post("/admin/accounts/user/", action)
    assert stale.status_code == 302 and "verify" in stale["Location"]
    assert StaffTotpDevice.objects.filter(user=staff).exists()
    settings.STAFF_REAUTH_SECONDS = 600
    assert client.post("/admin/accounts/user/", action).status_code == 302
    assert not StaffTotpDevice.objects.filter(user=staff).exists()
    event = AuditEvent.objects.get(action="staff.totp_reset")
    assert (event.object_id, event.actor_id) == (str(staff.pk), boss.pk)
    assert (
        staff_auth.staff_password_check(phone="13800000020", password="staff-pw-2026").enrolled
        is False
    )


def test_only_superusers_may_reset_an_authenticator(client, staff):
    operator = User.objects.create_user("13800000030", "op-pw-2026", is_staff=True)
    operator.groups.add(Group.objects.get(name="operator")) if Group.objects.filter(
        name="operator"
    ).exists() else None
    _enrolled(staff)
    from apps.accounts.second_factor import second_factor_mark

    client.force_login(operator)
    session = client.session
    second_factor_mark(session)
    session.save()
    client.post(
        "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [staff.pk]}
    )
    assert StaffTotpDevice.objects.filter(user=staff).exists()
