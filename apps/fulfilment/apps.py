"""Delivery of every paid order line: electronic goods, cards, SIM activation, physical and
digital goods."""

from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "apps.fulfilment"
    verbose_name = "履约"

    def ready(self) -> None:
        import apps.fulfilment.handlers
        import apps.fulfilment.kinds  # noqa: F401  (registers how each kind starts)
        from apps.fulfilment.views import order_cards_section, order_delivery_section
        from apps.orders.views.orders import order_detail_section_register

        order_detail_section_register(order_delivery_section)
        order_detail_section_register(order_cards_section)

        from apps.fulfilment.shipping.views import order_shipments_data, order_shipping_section

        order_detail_section_register(order_shipping_section)

        from apps.fulfilment.selectors import order_deliveries_data
        from apps.orders.api.order_views import order_api_section_register

        order_api_section_register("deliveries", order_deliveries_data)
        order_api_section_register("shipments", order_shipments_data)

        from apps.fulfilment import todos

        todos.register()
