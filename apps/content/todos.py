"""Content's to-dos on the workbench home page: CP applications, products and price changes
waiting for review (the CP reviewer's queue; operators see it too), and subscribers'
complaints about content charges (risk's and the CP reviewer's)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.content import selectors
from apps.core.workbench import register_todo


def register() -> None:
    reviewers = {Role.CP_REVIEWER}
    register_todo(
        "content.cp_applications",
        _("CP applications awaiting review"),
        selectors.cp_applications_awaiting_review,
        "/admin/content/contentprovider/?status__exact=pending",
        reviewers,
    )
    register_todo(
        "content.products_pending",
        _("Content products awaiting review"),
        selectors.products_pending_review,
        "/admin/content/contentproduct/?status__exact=pending",
        reviewers,
    )
    register_todo(
        "content.price_changes_pending",
        _("Content price points and price changes awaiting review"),
        selectors.price_changes_pending_review,
        "/admin/content/pricepoint/?review=waiting",
        reviewers,
    )
    register_todo(
        "content.complaints_open",
        _("Content complaints to answer"),
        selectors.complaints_open,
        "/admin/content/complaint/?status__exact=open",
        {Role.RISK, Role.CP_REVIEWER},
    )
