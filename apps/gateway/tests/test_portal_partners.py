"""Company registration, the operator's review, apps and production access (services)."""

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.core.models import AuditEvent
from apps.gateway.models import App, Partner
from apps.gateway.portal import services
from apps.gateway.portal.errors import (
    AppNameTaken,
    AppNotFound,
    AppStateConflict,
    DecisionReasonRequired,
    InvalidCallbackUrl,
    InvalidContact,
    InvalidIpAllowList,
    InvalidLicenceNumber,
    LicenceNumberInUse,
    PartnerAlreadyRegistered,
    PartnerNotApproved,
    PartnerNotRegistered,
    PartnerStateConflict,
)
from apps.gateway.tests.portal_support import (
    LICENCE,
    OTHER_LICENCE,
    approved_partner,
    company,
    operator,
    partner_app,
    registered_partner,
)

pytestmark = pytest.mark.django_db


def _events(object_type, object_id):
    return list(
        AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id))
        .order_by("id")
        .values_list("action", "actor_id")
    )


def test_registration_is_normalised_pending_and_audited():
    user = UserFactory()
    partner = services.partner_register(
        user_id=user.pk,
        **company(licence_number=" 91350100m000100y43 ", contact_email="Dev@Example.com"),
    )
    partner.refresh_from_db()
    assert (partner.status, partner.licence_number, partner.contact_email) == (
        "pending",
        LICENCE,
        "dev@example.com",
    )
    assert partner.contact_phone == "+8613912345678"
    assert partner.owner_id == user.pk
    assert _events("gateway_partner", partner.pk) == [("gateway_partner.registered", user.pk)]
    assert not user.groups.filter(name="partner").exists()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("licence_number", "91350100M000100Y44", InvalidLicenceNumber),
        ("contact_email", "nope", InvalidContact),
        ("company_name", "A", InvalidContact),
        ("contact_name", "  ", InvalidContact),
    ],
)
def test_invalid_registration_writes_nothing(field, value, error):
    user = UserFactory()
    with pytest.raises(error):
        services.partner_register(user_id=user.pk, **company(**{field: value}))
    assert Partner.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_duplicate_licence_and_second_company_are_refused():
    first = registered_partner()
    with pytest.raises(LicenceNumberInUse):
        registered_partner()
    with pytest.raises(PartnerAlreadyRegistered):
        services.partner_register(user_id=first.owner_id, **company(licence_number=OTHER_LICENCE))
    assert Partner.objects.count() == 1


def test_approval_grants_the_partner_role_once_and_is_audited():
    partner = registered_partner()
    staff = operator()
    services.partner_review(partner_id=partner.pk, approve=True, actor_id=staff.pk)
    partner.refresh_from_db()
    assert (partner.status, partner.reviewed_by_id) == ("approved", staff.pk)
    assert partner.reviewed_at is not None
    assert partner.owner.groups.filter(name="partner").exists()
    with pytest.raises(PartnerStateConflict):
        services.partner_review(partner_id=partner.pk, approve=True, actor_id=staff.pk)
    assert _events("gateway_partner", partner.pk) == [
        ("gateway_partner.registered", partner.owner_id),
        ("gateway_partner.approved", staff.pk),
    ]
    assert _events("user", partner.owner_id) == [("user.role_granted", staff.pk)]


def test_rejection_needs_a_reason_frees_the_licence_and_allows_resubmission():
    partner = registered_partner()
    staff = operator()
    with pytest.raises(DecisionReasonRequired):
        services.partner_review(partner_id=partner.pk, approve=False, actor_id=staff.pk)
    assert Partner.objects.get().status == "pending"
    services.partner_review(
        partner_id=partner.pk, approve=False, reason="营业执照照片不清晰", actor_id=staff.pk
    )
    partner.refresh_from_db()
    assert (partner.status, partner.reject_reason) == ("rejected", "营业执照照片不清晰")
    assert not partner.owner.groups.filter(name="partner").exists()
    event = AuditEvent.objects.get(action="gateway_partner.rejected")
    assert event.after == {"status": "rejected", "reason": "营业执照照片不清晰"}

    again = services.partner_register(
        user_id=partner.owner_id, **company(company_name="福州示例科技股份有限公司")
    )
    assert again.pk == partner.pk
    again.refresh_from_db()
    assert (again.status, again.company_name, again.reject_reason) == (
        "pending",
        "福州示例科技股份有限公司",
        "",
    )
    assert Partner.objects.count() == 1
    assert _events("gateway_partner", partner.pk)[-1] == (
        "gateway_partner.pending",
        partner.owner_id,
    )


def test_a_rejected_companys_licence_can_be_registered_by_someone_else():
    partner = registered_partner()
    services.partner_review(
        partner_id=partner.pk, approve=False, reason="x", actor_id=operator().pk
    )
    other = registered_partner()
    assert other.pk != partner.pk and other.status == "pending"


def test_apps_need_an_approved_company():
    user = UserFactory()
    with pytest.raises(PartnerNotRegistered):
        services.app_create(user_id=user.pk, name="a")
    registered_partner(user)
    with pytest.raises(PartnerNotApproved):
        services.app_create(user_id=user.pk, name="a")
    assert App.objects.count() == 0


def test_app_settings_are_validated_and_audited(loopback_callbacks):
    partner = approved_partner()
    app = services.app_create(
        user_id=partner.owner_id,
        name=" 短信 通知 ",
        description="验证码",
        callback_urls=["https://cb.example.com/sms", "http://127.0.0.1:9000/cb"],
        ip_allowlist=["203.0.113.0/24", "198.51.100.7"],
    ).app
    app.refresh_from_db()
    assert (app.name, app.production_status) == ("短信 通知", "none")
    assert app.callback_urls == ["https://cb.example.com/sms", "http://127.0.0.1:9000/cb"]
    assert app.ip_allowlist == ["203.0.113.0/24", "198.51.100.7/32"]
    assert _events("gateway_app", app.pk) == [("gateway_app.created", partner.owner_id)]

    with pytest.raises(InvalidCallbackUrl):
        services.app_update(
            user_id=partner.owner_id, app_id=app.pk, name="x", description="",
            callback_urls=["http://cb.example.com/"], ip_allowlist=[],
        )  # fmt: skip
    with pytest.raises(InvalidIpAllowList):
        services.app_update(
            user_id=partner.owner_id, app_id=app.pk, name="x", description="",
            callback_urls=[], ip_allowlist=["10.0.0.1/8"],
        )  # fmt: skip
    app.refresh_from_db()
    assert app.name == "短信 通知"
    services.app_update(
        user_id=partner.owner_id, app_id=app.pk, name="短信 通知", description="",
        callback_urls=[], ip_allowlist=["10.0.0.0/8"],
    )  # fmt: skip
    updated = AuditEvent.objects.get(action="gateway_app.updated")
    assert updated.before["ip_allowlist"] == ["203.0.113.0/24", "198.51.100.7/32"]
    assert updated.after == {
        "name": "短信 通知",
        "callback_urls": [],
        "ip_allowlist": ["10.0.0.0/8"],
    }


def test_app_names_are_unique_per_company_and_apps_are_private():
    partner = approved_partner()
    app = partner_app(partner, name="A")
    with pytest.raises(AppNameTaken):
        partner_app(partner, name="A")
    stranger = approved_partner(UserFactory(), licence_number=OTHER_LICENCE)
    partner_app(stranger, name="A")  # another company may use the same name
    with pytest.raises(AppNotFound):
        services.app_update(
            user_id=stranger.owner_id, app_id=app.pk, name="mine", description="",
            callback_urls=[], ip_allowlist=[],
        )  # fmt: skip
    with pytest.raises(AppNotFound):
        services.app_production_request(user_id=stranger.owner_id, app_id=app.pk)
    assert App.objects.get(pk=app.pk).name == "A"


def test_production_request_review_and_audit():
    partner = approved_partner()
    app = partner_app(partner)
    staff = operator()
    with pytest.raises(AppStateConflict):  # nothing to approve yet
        services.app_production_review(app_id=app.pk, approve=True, actor_id=staff.pk)
    services.app_production_request(user_id=partner.owner_id, app_id=app.pk)
    with pytest.raises(AppStateConflict):  # asked twice
        services.app_production_request(user_id=partner.owner_id, app_id=app.pk)
    with pytest.raises(DecisionReasonRequired):
        services.app_production_review(app_id=app.pk, approve=False, actor_id=staff.pk)
    services.app_production_review(
        app_id=app.pk, approve=False, reason="用途不明", actor_id=staff.pk
    )
    app.refresh_from_db()
    assert (app.production_status, app.production_reject_reason) == ("rejected", "用途不明")
    services.app_production_request(user_id=partner.owner_id, app_id=app.pk)
    services.app_production_review(app_id=app.pk, approve=True, actor_id=staff.pk)
    app.refresh_from_db()
    assert (app.production_status, app.production_reviewed_by_id) == ("approved", staff.pk)
    assert app.production_reject_reason == ""
    assert _events("gateway_app", app.pk) == [
        ("gateway_app.created", partner.owner_id),
        ("gateway_app.production.requested", partner.owner_id),
        ("gateway_app.production.rejected", staff.pk),
        ("gateway_app.production.requested", partner.owner_id),
        ("gateway_app.production.approved", staff.pk),
    ]
    with pytest.raises(AppStateConflict):  # approving or rejecting again
        services.app_production_review(app_id=app.pk, approve=False, reason="x", actor_id=staff.pk)
