"""Ledger refusals, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidArgument, NotFound


class UnbalancedJournal(InvalidArgument):
    """Fewer than two accounts, a zero or non-integer amount, or lines that do not sum to zero."""

    code = "LEDGER_UNBALANCED"
    default_message = _("A journal needs at least two non-zero lines that sum to zero.")


class UnknownAccount(InvalidArgument):
    code = "LEDGER_UNKNOWN_ACCOUNT"
    default_message = _("No ledger account has this code.")


class MixedUnits(InvalidArgument):
    code = "LEDGER_MIXED_UNITS"
    default_message = _("A journal's accounts must all count the same unit (CNY or points).")


class InvalidJournal(InvalidArgument):
    """An empty or over-long key, kind or reference, or the reserved kind ``reversal``."""

    code = "LEDGER_INVALID_JOURNAL"
    default_message = _("The journal's key, kind or reference is not valid.")


class InvalidAccount(InvalidArgument):
    code = "LEDGER_INVALID_ACCOUNT"
    default_message = _("The account's code, kind or unit is not valid.")


class AccountMismatch(Conflict):
    """``account_ensure`` found the code with another kind or unit."""

    code = "LEDGER_ACCOUNT_MISMATCH"
    default_message = _("This account already exists with a different kind or unit.")


class JournalNotFound(NotFound):
    code = "LEDGER_JOURNAL_NOT_FOUND"
    default_message = _("No journal has this id.")


class AlreadyReversed(Conflict):
    code = "LEDGER_ALREADY_REVERSED"
    default_message = _("This journal has already been reversed.")


class ReversalNotReversible(Conflict):
    """A reversal is final: to book the original effect again, post a new journal."""

    code = "LEDGER_REVERSAL_NOT_REVERSIBLE"
    default_message = _("A reversal cannot itself be reversed; post a new journal instead.")


class InsufficientBalance(Conflict):
    """A debit would take a party's points holding (a points liability) below zero."""

    code = "LEDGER_INSUFFICIENT_BALANCE"
    default_message = _("This would take the account's points below zero.")
