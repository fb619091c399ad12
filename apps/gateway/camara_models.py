"""What CAMARA's carrier billing keeps of a payment beyond the charge itself.

A ``BillingCharge`` holds the money and its state; CAMARA's ``amountTransaction`` also carries
the partner's correlator, metadata (merchant, category), item details and the sink, which
``retrievePayment`` answers back unchanged and ``retrievePayments`` filters by merchant.
"""

from __future__ import annotations

from django.db import models


class ChargeRequestDetail(models.Model):
    """The partner's CAMARA request of one charge, as it came (one per charge)."""

    charge = models.OneToOneField(
        "gateway.BillingCharge", primary_key=True, on_delete=models.CASCADE, related_name="detail"
    )
    # {"amountTransaction": ..., "sink": ...} minus the sink credential (a secret)
    request = models.JSONField(default=dict)
    merchant_identifier = models.CharField(max_length=64, blank=True)
    # refund id -> the partner's CAMARA refund request (type, reason, amountTransaction)
    refunds = models.JSONField(default=dict)
    # The currency the partner named (always CNY today) and the flow: one step or two.
    flow = models.CharField(max_length=8, default="two-step")

    class Meta:
        verbose_name = "CAMARA payment request"
        indexes = [models.Index(fields=["merchant_identifier"], name="gateway_chargedetail_merch")]

    def __str__(self) -> str:
        return f"{self.charge_id}"
