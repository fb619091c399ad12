"""Who is settled with: a counterparty is a kind and an id, and its ledger account.

A kind says which ledger account holds what is owed between the platform and the party, and
in which direction. CPs and channels are paid (their ``<kind>:<id>:payable`` liability is
credited as they earn); partners of the capability gateway pay us (their
``partner:<id>:receivable`` asset is debited by their monthly invoice). A new kind is one
more entry in ``KINDS``: batches, statements, rules and reports are written against this
table only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    code: str
    label: str | Promise
    suffix: str  # the account code is "<code>:<id>:<suffix>"
    account_kind: str  # the ledger account kind: liability (we pay) or asset (they pay)

    @property
    def payable(self) -> bool:
        """True when the platform pays the party (the account is a liability)."""
        return self.account_kind == "liability"

    def account_code(self, party_id: int) -> str:
        return f"{self.code}:{party_id}:{self.suffix}"

    def party_of(self, account_code: str) -> int | None:
        """The party id an account code names, or None when it is not this kind's."""
        match = re.fullmatch(rf"{self.code}:(\d+):{self.suffix}", account_code)
        return int(match.group(1)) if match else None

    def owed(self, amount_fen: int) -> int:
        """A line's amount as what the settlement counts: positive when it adds to what is
        owed (a credit on a payable, a debit on a receivable)."""
        return -amount_fen if self.payable else amount_fen


CP = "cp"
CHANNEL = "channel"
PARTNER = "partner"

KINDS: dict[str, Kind] = {
    CP: Kind(CP, _("Content provider"), "payable", "liability"),
    CHANNEL: Kind(CHANNEL, _("Channel"), "payable", "liability"),
    PARTNER: Kind(PARTNER, _("Capability partner"), "receivable", "asset"),
}
KIND_CHOICES = [(kind.code, kind.label) for kind in KINDS.values()]

# Where payouts go out and partners' payments come in.
BANK_CLEARING = "bank:clearing"
# What the platform keeps of a party's revenue (its commission) is revenue of the platform.
PLATFORM_REVENUE = "platform:revenue"
