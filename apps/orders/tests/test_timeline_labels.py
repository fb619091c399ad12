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
