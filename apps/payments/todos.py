"""Payments' to-dos on the workbench home page: refunds to approve, payments under review."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.core.workbench import register_todo
from apps.payments.models import PaymentIntent, Refund


def register() -> None:
    register_todo(
        "payments.refunds_to_approve",
        _("Refunds to approve"),
        Refund.objects.filter(status=Refund.Status.REQUESTED).count,
        "/admin/payments/refund/?status__exact=requested",
        {Role.FINANCE},
    )
    register_todo(
        "payments.under_review",
        _("Payments under review"),
        PaymentIntent.objects.filter(status=PaymentIntent.Status.REVIEW).count,
        "/admin/payments/paymentintent/?status__exact=review",
        {Role.FINANCE, Role.RISK},
    )
    register_todo(
        "payments.refunds_failed",
        _("Refunds failed at the provider"),
        Refund.objects.filter(status=Refund.Status.FAILED).count,
        "/admin/payments/refund/?status__exact=failed",
        {Role.FINANCE},
    )
