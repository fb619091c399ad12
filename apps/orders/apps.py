"""Buying: the cart now; checkout and orders build on it."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    verbose_name = "订单与购物车"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from apps.orders.receivers import merge_guest_cart

        user_logged_in.connect(merge_guest_cart, dispatch_uid="orders.merge_guest_cart")

        from apps.orders.services import orders, refunds
        from apps.payments.handlers import PurposeHandler, purpose_register

        purpose_register(
            orders.PURPOSE,
            PurposeHandler(
                on_succeeded=orders.payment_succeeded,
                on_refunded=orders.payment_refunded,
                describe=orders.describe,
                lock=orders.lock,
                describe_lines=orders.describe_lines,
                refund_check=refunds.order_refund_check,
            ),
        )
        from apps.orders import risk_handlers as _risk  # noqa: F401  (answers to held refunds)
