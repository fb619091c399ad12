"""Sponsored data (流量统付) for partners: the partner's company pays, through the enterprise
prepaid account of its owner (the account bulk distribution spends), for data packs its app
gives its users. The grant, its money and its delivery are ``apps.enterprise.sponsored``; this
module names the sponsor and says the refusals in CAMARA's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext_lazy as _

from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound
from apps.core.phone import InvalidPhoneNumber
from apps.enterprise import errors as enterprise_errors
from apps.enterprise import sponsored
from apps.enterprise.models import SponsoredGrant
from apps.gateway.capability_errors import (
    IdentifierNotFound,
    NetworkUnavailable,
    ServiceNotApplicable,
    SponsoredGrantNotFound,
    SponsoredInsufficientBalance,
    SponsoredPartnerLimitExceeded,
    SponsoredRequestIdConflict,
    SponsoredSubscriberLimitExceeded,
    SponsoredUnknownProduct,
)
from apps.gateway.models import Partner


@contextmanager
def _camara_errors() -> Iterator[None]:
    try:
        yield
    except InvalidPhoneNumber as exc:
        raise ServiceNotApplicable(_("The number is not a mobile number.")) from exc
    except enterprise_errors.UnknownDataPack as exc:
        raise SponsoredUnknownProduct(details=exc.details) from exc
    except SubscriberNotFound as exc:
        raise IdentifierNotFound() from exc
    except enterprise_errors.SubscriberNotOnNetwork as exc:
        raise ServiceNotApplicable(_("The number belongs to another operator.")) from exc
    except enterprise_errors.InsufficientPrepaidBalance as exc:
        raise SponsoredInsufficientBalance(
            details={
                "neededFen": exc.details.get("needed_fen"),
                "availableFen": exc.details.get("available_fen"),
            }
        ) from exc
    except enterprise_errors.SponsorMonthlyLimitReached as exc:
        raise SponsoredPartnerLimitExceeded(details=exc.details) from exc
    except enterprise_errors.SubscriberMonthlyLimitReached as exc:
        raise SponsoredSubscriberLimitExceeded(details=exc.details) from exc
    except enterprise_errors.SponsoredRequestConflict as exc:
        raise SponsoredRequestIdConflict() from exc
    except enterprise_errors.SponsoredGrantNotFound as exc:
        raise SponsoredGrantNotFound() from exc
    except CarrierUnavailable as exc:
        raise NetworkUnavailable() from exc
    except CarrierRejected as exc:
        # Any other refusal of a well-formed number, in the words the other capabilities use.
        raise ServiceNotApplicable() from exc


def _sponsor(partner_id: int) -> tuple[int, str]:
    """The enterprise account that pays for the partner (its owner's) and the name texted."""
    owner_id, name = Partner.objects.values_list("owner_id", "company_name").get(pk=partner_id)
    return owner_id, name


def grant_create(
    *, partner_id: int, request_id: str, phone_number: str, product_code: str
) -> SponsoredGrant:
    """Grant the pack once per request id (a repeat returns the first grant)."""
    sponsor_id, name = _sponsor(partner_id)
    with _camara_errors():
        return sponsored.sponsored_grant(
            sponsor_id=sponsor_id, sponsor_name=name, request_id=request_id,
            msisdn=phone_number, pack_code=product_code,
        ).grant  # fmt: skip


def grant_get(*, partner_id: int, request_id: str) -> SponsoredGrant:
    sponsor_id, _name = _sponsor(partner_id)
    with _camara_errors():
        return sponsored.sponsored_grant_get(sponsor_id=sponsor_id, request_id=request_id)
