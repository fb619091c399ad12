"""Electronic invoices, help-centre FAQs, and customer-service tickets with their threads.

Orders are referred to by number only: this app reads them through ``orders.selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Invoice(models.Model):
    """An electronic invoice (电子发票) a buyer asked for on a paid order; finance issues it."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ISSUED = "issued", _("Issued")
        REJECTED = "rejected", _("Rejected")

    class TitleType(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        COMPANY = "company", _("Company")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.ISSUED, Status.REJECTED}),
        Status.ISSUED: frozenset(),
        Status.REJECTED: frozenset(),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order_number = models.CharField(_("order number"), max_length=24)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    title_type = models.CharField(_("title type"), max_length=16, choices=TitleType.choices)
    title = models.CharField(_("invoice title"), max_length=100)
    tax_number = models.CharField(_("taxpayer ID"), max_length=18, blank=True)
    email = models.EmailField(_("email"), blank=True)
    amount_fen = models.BigIntegerField(_("amount (tax included, fen)"))
    invoice_number = models.CharField(_("invoice number"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("electronic invoice")
        verbose_name_plural = _("electronic invoices")
        constraints = [
            # One live invoice per order: a rejected request may be made again.
            models.UniqueConstraint(
                fields=["order_number"],
                condition=~Q(status="rejected"),
                name="service_one_invoice_per_order",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="service_invoice_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.order_number} · {self.title}"


class FaqEntry(models.Model):
    """A question and answer of the help centre, written by operators."""

    class Topic(models.TextChoices):
        RECHARGE = "recharge", _("Recharge and data")
        ORDERS = "orders", _("Orders and payment")
        DELIVERY = "delivery", _("Delivery and SIM cards")
        REFUNDS = "refunds", _("Refunds and after-sales")
        INVOICES = "invoices", _("Invoices")
        ACCOUNT = "account", _("Account and points")

    topic = models.CharField(_("topic"), max_length=16, choices=Topic.choices)
    question = models.CharField(_("question"), max_length=200)
    answer = models.TextField(_("answer"))
    sort = models.PositiveIntegerField(_("display order"), default=0)
    is_published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["topic", "sort", "id"]
        verbose_name = _("FAQ")
        verbose_name_plural = _("FAQs")

    def __str__(self) -> str:
        return self.question


class Ticket(models.Model):
    """A buyer's request to customer service about an order; the thread is its messages."""

    class Kind(models.TextChoices):
        NOT_RECEIVED = "not_received", _("Not received")
        WRONG_AMOUNT = "wrong_amount", _("Wrong amount charged")
        REFUND = "refund", _("Refund")
        COMPLAINT = "complaint", _("Complaint")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for us")
        ANSWERED = "answered", pgettext_lazy("ticket", "Answered")
        CLOSED = "closed", _("Closed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.ANSWERED, Status.CLOSED}),
        Status.ANSWERED: frozenset({Status.OPEN, Status.CLOSED}),
        Status.CLOSED: frozenset(),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order_number = models.CharField(_("order number"), max_length=24, blank=True)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    # A complaint about money taken (wrong amount, or a complaint on a paid order): risk
    # control counts these.
    is_charge_complaint = models.BooleanField(_("charge complaint"), default=False)
    subject = models.CharField(_("subject"), max_length=120)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("service ticket")
        verbose_name_plural = _("service tickets")
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="service_ticket_queue"),
            models.Index(fields=["user", "-id"], name="service_ticket_user"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_staff = models.BooleanField(_("from customer service"), default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:30]}"
