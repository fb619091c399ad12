"""The order page's timeline speaks the reader's language, not audit codes."""

import pytest
from django.utils import translation

from apps.orders.selectors import _timeline_label


@pytest.mark.parametrize(
    ("action", "english", "chinese"),
    [
        ("order.created", "Order · Placed", "订单 · 已下单"),
        ("payment.succeeded", "Payment · Paid", "支付 · 已支付"),
        ("refund.succeeded", "Refund · Refunded", "退款 · 已退款"),
        ("order.no_such_state", "order.no_such_state", "order.no_such_state"),
    ],
)
def test_each_audit_code_has_words_in_both_languages(action, english, chinese):
    with translation.override("en"):
        assert _timeline_label(action) == english
    with translation.override("zh-hans"):
        assert _timeline_label(action) == chinese


def test_a_refund_shows_its_state_in_words():
    from datetime import UTC, datetime

    from apps.payments.services import RefundView

    view = RefundView(
        id=1, public_id="RF1", intent_public_id="PI1", amount_fen=100, reason="", status="succeeded",
        automatic=False, error_code="", created_at=datetime(2026, 11, 27, tzinfo=UTC),
    )  # fmt: skip
    with translation.override("en"):
        assert view.status_label == "Refunded"
    with translation.override("zh-hans"):
        assert view.status_label == "已退款"
