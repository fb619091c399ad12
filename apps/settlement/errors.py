"""Settlement refusals, each with its machine-readable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidArgument, NotFound


class InvalidRule(InvalidArgument):
    code = "SETTLEMENT_INVALID_RULE"
    default_message = _("The settlement rule is not valid.")


class RetroactiveRule(InvalidArgument):
    """A rule applies from its date on: a date already past would reprice settled lines."""

    code = "SETTLEMENT_RULE_RETROACTIVE"
    default_message = _("A settlement rule cannot take effect before today.")


class InvalidPeriod(InvalidArgument):
    code = "SETTLEMENT_INVALID_PERIOD"
    default_message = _("The settlement period is not valid.")


class UnknownKind(InvalidArgument):
    code = "SETTLEMENT_UNKNOWN_KIND"
    default_message = _("No counterparty kind has this code.")


class StatementNotFound(NotFound):
    code = "SETTLEMENT_STATEMENT_NOT_FOUND"
    default_message = _("No statement has this id.")


class StatementStateConflict(Conflict):
    code = "SETTLEMENT_STATEMENT_STATE"
    default_message = _("The statement cannot make this move from its current status.")


class TieOutFailed(Conflict):
    """The statement's lines no longer sum to its account's ledger movement for the period."""

    code = "SETTLEMENT_TIE_OUT_FAILED"
    default_message = _(
        "The statement does not tie out to the ledger; run the batch again before confirming."
    )


class SameActor(Conflict):
    """Maker-checker: whoever ran the batch cannot confirm its statements."""

    code = "SETTLEMENT_MAKER_CHECKER"
    default_message = _("The statement must be confirmed by someone other than who ran it.")


class NoteRequired(InvalidArgument):
    code = "SETTLEMENT_NOTE_REQUIRED"
    default_message = _("A dispute needs a note.")
