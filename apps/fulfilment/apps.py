"""Delivery: airtime top-ups and data packs through the carrier, exactly once."""

from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "apps.fulfilment"
    verbose_name = "履约"

    def ready(self) -> None:
        from apps.fulfilment.cards.sales import cards_void_for_order
        from apps.fulfilment.services import jobs_create_for_order
        from apps.fulfilment.views import order_cards_section
        from apps.orders.services.orders import order_paid_listen, order_refunded_listen
        from apps.orders.views.orders import order_detail_section_register

        order_paid_listen(jobs_create_for_order)
        order_refunded_listen(cards_void_for_order)
        order_detail_section_register(order_cards_section)
