"""Shipping and returns writes: parcels (shipments.py) and returns (returns.py), in one place."""

from apps.fulfilment.shipping.returns import (
    ReturnView,
    return_decide,
    return_receive,
    return_request,
    return_send_back,
)
from apps.fulfilment.shipping.shipments import (
    CourierUpdate,
    ShipmentResult,
    shipment_create,
    shipment_register,
    shipments_register_pending,
    tracking_update_receive,
)

__all__ = [
    "CourierUpdate",
    "ReturnView",
    "ShipmentResult",
    "return_decide",
    "return_receive",
    "return_request",
    "return_send_back",
    "shipment_create",
    "shipment_register",
    "shipments_register_pending",
    "tracking_update_receive",
]
