"""Recharge, data and point cards: batches, one-time print files, redemption and online sale."""

from apps.fulfilment.cards.batches import (
    CardValue,
    card_batch_counts,
    card_batch_create,
    card_batch_numbers_csv,
    card_batch_print_file_take,
    card_batch_set_status,
    card_set_status,
    card_stock_sync,
    card_value_for_sku,
)
from apps.fulfilment.cards.errors import (
    CardConfirmationExpired,
    CardInvalid,
    CardNeedsAccount,
    CardNotFound,
    CardStateConflict,
    CardTriesExceeded,
    CardUnusable,
    PrintFileGone,
)
from apps.fulfilment.cards.redeem import (
    MAX_WRONG_PINS,
    TRIES_PER_HOUR,
    Quote,
    Redeemed,
    card_quote,
    card_redeem,
    card_redeem_confirmed,
)
from apps.fulfilment.cards.sales import card_pin_reveal, cards_allocate, cards_for_order

__all__ = [
    "MAX_WRONG_PINS",
    "TRIES_PER_HOUR",
    "CardConfirmationExpired",
    "CardInvalid",
    "CardNeedsAccount",
    "CardNotFound",
    "CardStateConflict",
    "CardTriesExceeded",
    "CardUnusable",
    "CardValue",
    "PrintFileGone",
    "Quote",
    "Redeemed",
    "card_batch_counts",
    "card_batch_create",
    "card_batch_numbers_csv",
    "card_batch_print_file_take",
    "card_batch_set_status",
    "card_pin_reveal",
    "card_quote",
    "card_redeem",
    "card_redeem_confirmed",
    "card_set_status",
    "card_stock_sync",
    "card_value_for_sku",
    "cards_allocate",
    "cards_for_order",
]
