"""Developer-portal writes: company registration and review, apps, production access.

Every change is audited in the transaction that makes it. Locks: the partner row (or an
advisory lock on the owner and the licence number while there is no row yet), then the app
row; never the other way round. Credentials and subscriptions have their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Role
from apps.accounts.services import user_role_grant
from apps.core.audit import audit_record, audited_transition
from apps.core.locks import advisory_xact_lock
from apps.core.phone import normalize_phone
from apps.gateway import locks
from apps.gateway.context import app_context_invalidate
from apps.gateway.models import App, Environment, Partner
from apps.gateway.portal.errors import (
    AppNameTaken,
    AppNotFound,
    AppStateConflict,
    DecisionReasonRequired,
    InvalidAppName,
    InvalidContact,
    LicenceNumberInUse,
    PartnerAlreadyRegistered,
    PartnerNotApproved,
    PartnerNotRegistered,
    PartnerStateConflict,
)
from apps.gateway.portal.validators import (
    normalize_callback_urls,
    normalize_email,
    normalize_ip_allow_list,
    normalize_licence_number,
)
from apps.gateway.services import IssuedCredential, credential_issue

MAX_REASON_LENGTH = 500
# A credential lives a year; on rotation the old one keeps working for a day, long enough
# to roll the new secret out to every server, then expires by itself.
CREDENTIAL_TTL = timedelta(days=365)
ROTATION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class CompanyDetails:
    company_name: str
    contact_name: str
    contact_phone: str
    contact_email: str
    licence_number: str

    def as_audit(self) -> dict[str, object]:
        return {
            "company_name": self.company_name,
            "contact_name": self.contact_name,
            "licence_number": self.licence_number,
        }


def _text(raw: str, *, max_length: int, field: str, min_length: int = 1) -> str:
    text = " ".join((raw or "").split())
    if not min_length <= len(text) <= max_length:
        raise InvalidContact(details={"field": field})
    return text


def company_details_clean(
    *,
    company_name: str,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    licence_number: str,
) -> CompanyDetails:
    """Normalise and check what a partner typed; raises the first problem found."""
    return CompanyDetails(
        company_name=_text(company_name, max_length=200, min_length=2, field="company_name"),
        contact_name=_text(contact_name, max_length=60, field="contact_name"),
        contact_phone=normalize_phone(contact_phone),
        contact_email=normalize_email(contact_email),
        licence_number=normalize_licence_number(licence_number),
    )


def partner_register(*, user_id: int, **details: str) -> Partner:
    """Register the user's company for review, or resubmit a rejected registration.

    One company per user and one live registration per licence number (a rejected one frees
    it). Takes advisory locks on the owner, then on the licence number, so that two concurrent
    registrations cannot both pass the checks; the partial unique index is the backstop.
    """
    clean = company_details_clean(**details)
    with transaction.atomic():
        advisory_xact_lock("gateway-partner-owner", str(user_id))
        advisory_xact_lock("gateway-partner-licence", clean.licence_number)
        mine = locks.partner_lock_latest_of(user_id)
        if mine is not None and mine.status != Partner.Status.REJECTED:
            raise PartnerAlreadyRegistered()
        taken = Partner.objects.filter(licence_number=clean.licence_number).exclude(
            status=Partner.Status.REJECTED
        )
        if taken.exists():
            raise LicenceNumberInUse()
        if mine is None:
            partner = Partner.objects.create(owner_id=user_id, **clean.__dict__)
            audit_record(
                action="gateway_partner.registered", object_type="gateway_partner", object_id=partner.pk,
                actor_id=user_id, after={"status": partner.status, **clean.as_audit()},
            )  # fmt: skip
            return partner
        for field, value in clean.__dict__.items():
            setattr(mine, field, value)
        audited_transition(
            mine, Partner.Status.PENDING, object_type="gateway_partner", object_id=mine.pk,
            refused=lambda d: PartnerStateConflict(details=d), actor_id=user_id,
            after=clean.as_audit(),
        )  # fmt: skip
        mine.reject_reason = ""
        try:
            with transaction.atomic():
                mine.save()
        except IntegrityError as exc:  # the licence was taken between the check and the save
            raise LicenceNumberInUse() from exc
        return mine


def partner_review(*, partner_id: int, approve: bool, reason: str = "", actor_id: int) -> Partner:
    """An operator's decision on a pending registration; approval grants the partner role.

    A rejection needs a reason, which the partner sees. Locks the partner row; deciding twice
    is refused (``PARTNER_STATE_CONFLICT``), so the role is granted once.
    """
    reason = " ".join((reason or "").split())[:MAX_REASON_LENGTH]
    if not approve and not reason:
        raise DecisionReasonRequired()
    with transaction.atomic():
        partner = locks.partner_lock(partner_id)
        to = Partner.Status.APPROVED if approve else Partner.Status.REJECTED
        audited_transition(
            partner, to, object_type="gateway_partner", object_id=partner.pk,
            refused=lambda d: PartnerStateConflict(details=d), actor_id=actor_id,
            after={"reason": reason} if reason else None,
        )  # fmt: skip
        partner.reviewed_by_id = actor_id
        partner.reviewed_at = timezone.now()
        partner.reject_reason = "" if approve else reason
        partner.save()
        if approve:
            user_role_grant(user_id=partner.owner_id, role=Role.PARTNER, actor_id=actor_id)
        for app_id in App.objects.filter(partner=partner).values_list("pk", flat=True):
            app_context_invalidate(app_id=app_id)
    return partner


def approved_partner_for(*, user_id: int, lock: bool = False) -> Partner:
    """The user's approved company, or the refusal a page or the API shows."""
    partner = (
        locks.partner_lock_latest_of(user_id)
        if lock
        else Partner.objects.filter(owner_id=user_id).order_by("-pk").first()
    )
    if partner is None:
        raise PartnerNotRegistered()
    if partner.status != Partner.Status.APPROVED:
        raise PartnerNotApproved()
    return partner


def owned_app(*, user_id: int, app_id: int, lock: bool = False) -> App:
    """The app if it belongs to the user's company; anyone else's is ``APP_NOT_FOUND``."""
    app = (
        locks.app_lock_owned(app_id=app_id, owner_id=user_id)
        if lock
        else App.objects.select_related("partner")
        .filter(pk=app_id, partner__owner_id=user_id)
        .first()
    )
    if app is None:
        raise AppNotFound()
    return app


@dataclass(frozen=True)
class AppSettings:
    name: str
    description: str
    callback_urls: list[str]
    ip_allowlist: list[str]


def app_settings_clean(
    *, name: str, description: str, callback_urls: list[str], ip_allowlist: list[str]
) -> AppSettings:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 100:
        raise InvalidAppName()
    return AppSettings(
        name=name,
        description=(description or "").strip()[:2000],
        callback_urls=normalize_callback_urls(callback_urls),
        ip_allowlist=normalize_ip_allow_list(ip_allowlist),
    )


def _app_audit(app: App) -> dict[str, Any]:
    return {
        "name": app.name,
        "callback_urls": list(app.callback_urls),
        "ip_allowlist": list(app.ip_allowlist),
    }


@dataclass(frozen=True)
class NewApp:
    app: App
    credential: IssuedCredential  # sandbox; its secret is shown once


def app_create(
    *,
    user_id: int,
    name: str,
    description: str = "",
    callback_urls: list[str] | None = None,
    ip_allowlist: list[str] | None = None,
) -> NewApp:
    """Create an app for the user's approved company with its first sandbox credential.

    Production needs an operator's approval later. Locks the partner row so names are checked
    one app at a time (the unique index on (partner, name) is the backstop), then the app row
    (gwcore's credential issue); app and credential commit together.
    """
    clean = app_settings_clean(
        name=name,
        description=description,
        callback_urls=callback_urls or [],
        ip_allowlist=ip_allowlist or [],
    )
    with transaction.atomic():
        partner = approved_partner_for(user_id=user_id, lock=True)
        if App.objects.filter(partner=partner, name=clean.name).exists():
            raise AppNameTaken()
        app = App.objects.create(partner=partner, **clean.__dict__)
        audit_record(
            action="gateway_app.created", object_type="gateway_app", object_id=app.pk, actor_id=user_id,
            after={"partner_id": partner.pk, **_app_audit(app)},
        )  # fmt: skip
        credential = credential_issue(
            app_id=app.pk,
            environment=Environment.SANDBOX,
            expires_at=timezone.now() + CREDENTIAL_TTL,
            actor_id=user_id,
        )
    return NewApp(app=app, credential=credential)


def app_update(
    *,
    user_id: int,
    app_id: int,
    name: str,
    description: str,
    callback_urls: list[str],
    ip_allowlist: list[str],
) -> App:
    """Replace an app's name, description, callback URLs and IP allow-list; audited.

    Locks the app row. The allow-list applies to the next call the gateway authenticates.
    """
    clean = app_settings_clean(
        name=name, description=description, callback_urls=callback_urls, ip_allowlist=ip_allowlist
    )
    with transaction.atomic():
        app = owned_app(user_id=user_id, app_id=app_id, lock=True)
        if (
            App.objects.filter(partner_id=app.partner_id, name=clean.name)
            .exclude(pk=app.pk)
            .exists()
        ):
            raise AppNameTaken()
        before = _app_audit(app)
        for field, value in clean.__dict__.items():
            setattr(app, field, value)
        app.save()
        after = _app_audit(app)
        if before != after:
            audit_record(
                action="gateway_app.updated", object_type="gateway_app", object_id=app.pk, actor_id=user_id,
                before=before, after=after,
            )  # fmt: skip
            app_context_invalidate(app_id=app.pk)
    return app


def app_production_request(*, user_id: int, app_id: int) -> App:
    """Ask for production access (again after a rejection). Locks the app row; audited."""
    with transaction.atomic():
        app = owned_app(user_id=user_id, app_id=app_id, lock=True)
        if app.partner.status != Partner.Status.APPROVED:
            raise PartnerNotApproved()
        _production_move(app, App.ProductionStatus.REQUESTED, actor_id=user_id)
        app.production_requested_at = timezone.now()
        app.production_reject_reason = ""
        app.save()
    return app


def app_production_review(*, app_id: int, approve: bool, reason: str = "", actor_id: int) -> App:
    """An operator's decision on a production request; a rejection needs a reason.

    Approval lets the partner issue production credentials. Locks the app row; deciding
    twice is refused (``APP_STATE_CONFLICT``).
    """
    reason = " ".join((reason or "").split())[:MAX_REASON_LENGTH]
    if not approve and not reason:
        raise DecisionReasonRequired()
    with transaction.atomic():
        app = locks.app_lock(app_id)
        if approve and app.production_status != App.ProductionStatus.REQUESTED:
            raise AppStateConflict(details={"production_status": app.production_status})
        to = App.ProductionStatus.APPROVED if approve else App.ProductionStatus.REJECTED
        if not approve and app.production_status == App.ProductionStatus.APPROVED:
            # Withdrawing production access is a different decision from refusing a request.
            raise AppStateConflict(details={"production_status": app.production_status})
        _production_move(app, to, actor_id=actor_id, reason=reason)
        app.production_reviewed_by_id = actor_id
        app.production_reviewed_at = timezone.now()
        app.production_reject_reason = "" if approve else reason
        app.save()
        app_context_invalidate(app_id=app.pk)
    return app


def _production_move(app: App, to: str, *, actor_id: int, reason: str = "") -> None:
    audited_transition(
        app, to, object_type="gateway_app", object_id=app.pk, field="production_status",
        action_prefix="gateway_app.production", transitions=App.PRODUCTION_TRANSITIONS,
        refused=lambda d: AppStateConflict(details=d), actor_id=actor_id,
        after={"reason": reason} if reason else None,
    )  # fmt: skip
