"""Carts, orders and their lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Cart(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    session_key = models.CharField(
        max_length=40, null=True, blank=True, unique=True, verbose_name=_("session key")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(session_key__isnull=False),
                name="orders_cart_has_owner",
            )
        ]

    def __str__(self) -> str:
        return f"cart {self.pk}"


class CartLine(models.Model):
    """A SKU in a cart; electronic goods carry the number they are for (one line per number)."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    recipient_msisdn = models.CharField(max_length=20, blank=True, default="")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "sku", "recipient_msisdn"], name="orders_cart_line_once"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_cart_line_qty"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}×{self.quantity}"


class Order(models.Model):
    """A checkout of the cart: prices frozen per line, stock held until paid or released."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING_PAYMENT: frozenset({Status.PAID, Status.CANCELLED, Status.EXPIRED}),
        Status.PAID: frozenset({Status.COMPLETED, Status.REFUNDED}),
        Status.COMPLETED: frozenset({Status.REFUNDED}),
        Status.CANCELLED: frozenset(),
        Status.EXPIRED: frozenset(),
        Status.REFUNDED: frozenset(),
    }

    number = models.CharField(_("order number"), max_length=24, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("buyer"),
    )
    checkout_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT
    )
    goods_fen = models.BigIntegerField(_("goods total (fen)"))
    # What campaigns and a coupon took off the goods (marketing's breakdown; 0 without).
    discount_fen = models.BigIntegerField(_("discount (fen)"), default=0)
    points_fen = models.BigIntegerField(_("paid with points (fen)"), default=0)
    payable_fen = models.BigIntegerField(_("to pay (fen)"))
    refunded_fen = models.BigIntegerField(_("refunded (fen)"), default=0)
    shipping = models.JSONField(_("shipping address"), default=dict, blank=True)
    expires_at = models.DateTimeField(_("pay before"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    # When fulfilment said every line had ended (delivered or refunded); set once.
    delivery_settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            # The analytics rollups read one day of orders placed and of orders paid.
            models.Index(fields=["created_at"], name="orders_created_at"),
            models.Index(fields=["paid_at"], name="orders_paid_at"),
            models.Index(
                fields=["expires_at"],
                name="orders_pending_expiry",
                condition=Q(status="pending_payment"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(goods_fen__gte=0)
                & Q(points_fen__gte=0)
                & Q(discount_fen__gte=0)
                & Q(payable_fen=F("goods_fen") - F("discount_fen") - F("points_fen")),
                name="orders_order_amounts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0)
                & Q(refunded_fen__lte=F("goods_fen") - F("discount_fen")),
                name="orders_order_refund_bounded",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class OrderLine(models.Model):
    """One SKU of an order at the price it was bought for.

    ``fulfilment`` is orders' summary of the line's delivery: ``ready`` when paid, then what
    fulfilment (the owner of the line's ``Delivery`` state machine) reports through
    ``order_line_delivery_record``; refunds read it (``services/refunds.py``).
    """

    class Fulfilment(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        READY = "ready", _("To deliver")
        DELIVERING = "delivering", _("Delivering")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Fulfilment.PENDING: frozenset({Fulfilment.READY, Fulfilment.CANCELLED}),
        Fulfilment.READY: frozenset(
            {Fulfilment.DELIVERING, Fulfilment.DELIVERED, Fulfilment.REFUNDED}
        ),
        Fulfilment.DELIVERING: frozenset({Fulfilment.DELIVERED, Fulfilment.FAILED}),
        Fulfilment.FAILED: frozenset({Fulfilment.DELIVERING, Fulfilment.REFUNDED}),
        Fulfilment.DELIVERED: frozenset({Fulfilment.REFUNDED}),
        Fulfilment.CANCELLED: frozenset(),
        Fulfilment.REFUNDED: frozenset(),
    }

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    product_id = models.BigIntegerField()
    product_name = models.CharField(max_length=120)
    sku_name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16)
    unit_price_fen = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    total_fen = models.BigIntegerField()
    # This line's share of the order's discount; the line was paid ``total_fen - discount_fen``.
    discount_fen = models.BigIntegerField(default=0)
    recipient_msisdn = models.CharField(max_length=20, blank=True)
    fulfilment = models.CharField(
        max_length=16, choices=Fulfilment.choices, default=Fulfilment.PENDING
    )
    # A refund of this line's money was asked for (at most once), and why an operator
    # overrode the delivered line's refusal.
    refund_requested_at = models.DateTimeField(null=True, blank=True)
    refund_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=F("unit_price_fen") * F("quantity")), name="orders_line_total"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_line_quantity"),
            models.CheckConstraint(
                condition=Q(discount_fen__gte=0) & Q(discount_fen__lte=F("total_fen")),
                name="orders_line_discount_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.product_name}×{self.quantity}"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.fulfilment]

    @property
    def paid_fen(self) -> int:
        return self.total_fen - self.discount_fen
