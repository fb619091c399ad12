"""Order writes: the cart (cart.py) and checkout, payment and cancellation of orders (orders.py,
with their errors, views and state moves in state.py)."""

from apps.orders.services.cart import (
    MAX_QUANTITY,
    CartAdded,
    CartOwner,
    cart_add,
    cart_add_once,
    cart_line_remove,
    cart_line_set_quantity,
    cart_merge,
    carts_purge_abandoned,
    recipient_check,
)
from apps.orders.services.delivery import (
    order_delivery_settled,
    order_line_delivery_record,
    order_lines_delivery_record,
)
from apps.orders.services.flash import (
    FlashPurchase,
    flash_buy,
    flash_order_give_up,
    flash_order_place,
    flash_purchase_of,
)
from apps.orders.services.orders import (
    OrderView,
    ShippingAddress,
    checkout_submit,
    order_cancel,
    order_complete,
    order_pay,
    orders_expire,
)
from apps.orders.services.refunds import (
    LineRefundability,
    NothingRefundable,
    RefundLineDelivered,
    RefundWaitsForDelivery,
    order_refund_check,
    order_refund_lines,
    order_refund_request,
    order_return_refund,
)
from apps.orders.services.sim import RealNameInput

__all__ = [
    "MAX_QUANTITY",
    "CartAdded",
    "CartOwner",
    "FlashPurchase",
    "LineRefundability",
    "NothingRefundable",
    "OrderView",
    "RealNameInput",
    "RefundLineDelivered",
    "RefundWaitsForDelivery",
    "ShippingAddress",
    "cart_add",
    "cart_add_once",
    "cart_line_remove",
    "cart_line_set_quantity",
    "cart_merge",
    "carts_purge_abandoned",
    "checkout_submit",
    "flash_buy",
    "flash_order_give_up",
    "flash_order_place",
    "flash_purchase_of",
    "order_cancel",
    "order_complete",
    "order_delivery_settled",
    "order_line_delivery_record",
    "order_lines_delivery_record",
    "order_pay",
    "order_refund_check",
    "order_refund_lines",
    "order_refund_request",
    "order_return_refund",
    "orders_expire",
    "recipient_check",
]
