"""Content writes: providers and their keys, products and their review, charges, entitlements,
the CP's share in the ledger and notifications to CPs; one module each, every name here."""

from apps.content.services.chargebacks import ImportResult, chargeback_record, chargebacks_import
from apps.content.services.charges import (
    PURPOSE,
    charge_complain,
    charge_confirm,
    charge_create,
    charge_get,
    charge_pay_start,
    charge_price_point_choose,
    charge_refund,
    complaint_handle,
)
from apps.content.services.entitlements import entitlement_grant, entitlements_revoke
from apps.content.services.money import cp_share_fen, payable_code
from apps.content.services.price_points import (
    price_change_propose,
    price_change_review,
    price_point_add,
    price_point_for_sale,
    price_point_review,
    price_point_set_active,
)
from apps.content.services.products import product_create, product_resubmit, product_review
from apps.content.services.providers import (
    IssuedKey,
    cp_document_add,
    cp_key_issue,
    cp_key_rotate,
    cp_register,
    cp_review,
)

__all__ = [
    "PURPOSE",
    "ImportResult",
    "IssuedKey",
    "charge_complain",
    "charge_confirm",
    "charge_create",
    "charge_get",
    "charge_pay_start",
    "charge_price_point_choose",
    "charge_refund",
    "chargeback_record",
    "chargebacks_import",
    "complaint_handle",
    "cp_document_add",
    "cp_key_issue",
    "cp_key_rotate",
    "cp_register",
    "cp_review",
    "cp_share_fen",
    "entitlement_grant",
    "entitlements_revoke",
    "payable_code",
    "price_change_propose",
    "price_change_review",
    "price_point_add",
    "price_point_for_sale",
    "price_point_review",
    "price_point_set_active",
    "product_create",
    "product_resubmit",
    "product_review",
]
