"""Digital content billing: content providers, their products, charges, entitlements."""

from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "apps.content"
    verbose_name = "数字内容"

    def ready(self) -> None:
        # Content owns "content" payments (the purpose registry) and delivers the mall's digital
        # lines (outbox handlers, registered by importing handlers).
        from apps.content import handlers, tasks  # noqa: F401
        from apps.content.services import charges
        from apps.payments.handlers import purpose_register

        purpose_register(charges.PURPOSE, charges.HANDLER)

        from apps.content.views import order_content_section
        from apps.orders.views.orders import order_detail_section_register

        order_detail_section_register(order_content_section)

        from apps.content import todos

        todos.register()
