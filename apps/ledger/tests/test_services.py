"""Ledger writes: posting, refusals that write nothing, idempotency, reversals, accounts."""

import pytest
from django.db import transaction

from apps.core.errors import IdempotencyConflict
from apps.core.models import AuditEvent
from apps.ledger import services
from apps.ledger.errors import (
    AccountMismatch,
    AlreadyReversed,
    InvalidAccount,
    InvalidJournal,
    JournalNotFound,
    MixedUnits,
    ReversalNotReversible,
    UnbalancedJournal,
    UnknownAccount,
)
from apps.ledger.models import (
    AccountBalance,
    AccountBalanceSlot,
    Journal,
    JournalLine,
    LedgerAccount,
)
from apps.ledger.selectors import LineView, account_balance, journals_for_reference
from apps.ledger.services import LineSpec, journal_post, journal_reverse

pytestmark = pytest.mark.django_db

PAID = [
    LineSpec("clearing:alipay", 10000),
    LineSpec("platform:revenue", -3000),
    LineSpec("payable:cp:1", -7000),
]
CODES = ["clearing:alipay", "platform:revenue", "payable:cp:1"]


@pytest.fixture(autouse=True)
def _accounts(accounts):
    """The standard and test accounts. At teardown Django's TestCase runs the deferred
    constraint checks, so the database's balance trigger also sees every journal posted here."""


def balances(*codes: str) -> dict[str, int]:
    return {code: account_balance(code=code) for code in codes}


def book_state() -> tuple:
    """Everything a refused posting must leave untouched."""
    return (
        Journal.objects.count(),
        JournalLine.objects.count(),
        sorted(AccountBalance.objects.values_list("account_id", "balance_fen")),
        sorted(AccountBalanceSlot.objects.values_list("account_id", "slot", "balance_fen")),
        AuditEvent.objects.filter(object_type="ledger.journal").count(),
    )


# --- Posting --------------------------------------------------------------------------------


def test_a_balanced_journal_moves_each_balance_once_and_is_audited():
    view = journal_post(
        idempotency_key="order:1:paid",
        kind="order.paid",
        reference="order:1",
        lines=PAID,
        description="订单 1 支付宝支付",
    )

    assert balances(*CODES) == {
        "clearing:alipay": 10000,
        "platform:revenue": -3000,
        "payable:cp:1": -7000,
    }
    assert view.kind == "order.paid"
    assert view.reference == "order:1"
    assert view.unit == "CNY"
    assert view.reversal_of_id is None
    assert view.lines == (
        LineView("clearing:alipay", 10000),
        LineView("payable:cp:1", -7000),
        LineView("platform:revenue", -3000),
    )
    assert list(
        JournalLine.objects.filter(journal_id=view.id)
        .order_by("account__code")
        .values_list("account__code", "amount_fen")
    ) == [("clearing:alipay", 10000), ("payable:cp:1", -7000), ("platform:revenue", -3000)]
    event = AuditEvent.objects.get(object_type="ledger.journal")
    assert (event.action, event.object_id) == ("ledger.journal_posted", str(view.id))
    assert event.after == {
        "idempotency_key": "order:1:paid",
        "kind": "order.paid",
        "reference": "order:1",
        "lines": {"clearing:alipay": 10000, "payable:cp:1": -7000, "platform:revenue": -3000},
    }


def test_postings_add_up_and_lines_on_one_account_are_merged():
    journal_post(idempotency_key="k1", kind="order.paid", reference="order:1", lines=PAID)
    second = journal_post(
        idempotency_key="k2",
        kind="order.paid",
        reference="order:2",
        lines=[
            LineSpec("clearing:alipay", 300),
            LineSpec("clearing:alipay", 200),
            LineSpec("platform:revenue", -500),
        ],
    )

    assert second.lines == (LineView("clearing:alipay", 500), LineView("platform:revenue", -500))
    assert JournalLine.objects.filter(journal_id=second.id).count() == 2
    assert balances(*CODES) == {
        "clearing:alipay": 10500,
        "platform:revenue": -3500,
        "payable:cp:1": -7000,
    }


def test_points_post_in_their_own_unit():
    granted = journal_post(
        idempotency_key="points:grant:1",
        kind="points.granted",
        reference="user:1",
        lines=[LineSpec("points:issued", 500), LineSpec("points:user:1", -500)],
    )
    journal_post(
        idempotency_key="points:spend:1",
        kind="points.redeemed",
        reference="order:9",
        lines=[LineSpec("points:user:1", 200), LineSpec("points:redeemed", -200)],
    )

    assert granted.unit == "POINTS"
    assert balances("points:issued", "points:user:1", "points:redeemed") == {
        "points:issued": 500,
        "points:user:1": -300,
        "points:redeemed": -200,
    }


def test_a_nested_posting_commits_or_rolls_back_with_its_caller():
    before = book_state()

    def caller():
        with transaction.atomic():
            journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)
            raise RuntimeError("the caller fails after posting")

    with pytest.raises(RuntimeError):
        caller()

    assert book_state() == before


# --- Refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "details"),
    [
        pytest.param(
            [LineSpec("clearing:alipay", 100), LineSpec("platform:revenue", -99)],
            {"sum_fen": 1},
            id="sum-not-zero",
        ),
        pytest.param([LineSpec("clearing:alipay", 100)], {"sum_fen": 100}, id="one-line"),
        pytest.param([], {"accounts": 0}, id="no-lines"),
        pytest.param(
            [LineSpec("clearing:alipay", 100), LineSpec("clearing:alipay", -100)],
            {"accounts": 0},
            id="one-account-cancelling",
        ),
        pytest.param(
            [
                LineSpec("clearing:alipay", 0),
                LineSpec("clearing:wechat", 100),
                LineSpec("platform:revenue", -100),
            ],
            {"account_code": "clearing:alipay", "amount_fen": 0},
            id="zero-amount",
        ),
        pytest.param(
            [LineSpec("clearing:alipay", 1.5), LineSpec("platform:revenue", -1.5)],  # type: ignore[arg-type]
            {"account_code": "clearing:alipay", "amount_fen": "not an integer"},
            id="float",
        ),
        pytest.param(
            [LineSpec("clearing:alipay", True), LineSpec("platform:revenue", -1)],
            {"account_code": "clearing:alipay", "amount_fen": "not an integer"},
            id="bool",
        ),
    ],
)
def test_unbalanced_journals_are_refused_and_write_nothing(lines, details):
    before = book_state()

    with pytest.raises(UnbalancedJournal) as info:
        journal_post(idempotency_key="bad", kind="order.paid", reference="order:1", lines=lines)

    assert (info.value.code, info.value.http_status) == ("LEDGER_UNBALANCED", 400)
    assert info.value.details == details
    assert book_state() == before


def test_an_unknown_account_is_refused_and_writes_nothing():
    before = book_state()

    with pytest.raises(UnknownAccount) as info:
        journal_post(
            idempotency_key="bad",
            kind="order.paid",
            reference="order:1",
            lines=[LineSpec("clearing:paypal", 100), LineSpec("platform:revenue", -100)],
        )

    assert (info.value.code, info.value.http_status) == ("LEDGER_UNKNOWN_ACCOUNT", 400)
    assert info.value.details == {"codes": ["clearing:paypal"]}
    assert book_state() == before


def test_mixed_units_are_refused_and_write_nothing():
    before = book_state()

    with pytest.raises(MixedUnits) as info:
        journal_post(
            idempotency_key="bad",
            kind="order.paid",
            reference="order:1",
            lines=[LineSpec("clearing:alipay", 100), LineSpec("points:user:1", -100)],
        )

    assert (info.value.code, info.value.http_status) == ("LEDGER_MIXED_UNITS", 400)
    assert info.value.details == {"units": {"clearing:alipay": "CNY", "points:user:1": "POINTS"}}
    assert book_state() == before


@pytest.mark.parametrize(
    ("key", "kind", "reference", "details"),
    [
        ("", "order.paid", "order:1", {"idempotency_key": "1 to 128 characters"}),
        ("k" * 129, "order.paid", "order:1", {"idempotency_key": "1 to 128 characters"}),
        ("k", " ", "order:1", {"kind": "1 to 32 characters"}),
        ("k", "order.paid", "", {"reference": "1 to 64 characters"}),
        ("k", "reversal", "order:1", {"kind": "reserved for journal_reverse"}),
    ],
)
def test_invalid_headers_are_refused_and_write_nothing(key, kind, reference, details):
    before = book_state()

    with pytest.raises(InvalidJournal) as info:
        journal_post(idempotency_key=key, kind=kind, reference=reference, lines=PAID)

    assert (info.value.code, info.value.details) == ("LEDGER_INVALID_JOURNAL", details)
    assert book_state() == before


# --- Idempotency ----------------------------------------------------------------------------


def test_the_same_key_and_content_returns_the_first_journal_and_moves_nothing_more():
    first = journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)
    after_first = book_state()

    # The same content, written differently: lines reordered and one split in two.
    again = journal_post(
        idempotency_key="k",
        kind="order.paid",
        reference="order:1",
        lines=[
            LineSpec("payable:cp:1", -7000),
            LineSpec("platform:revenue", -1000),
            LineSpec("platform:revenue", -2000),
            LineSpec("clearing:alipay", 10000),
        ],
        description="a retry may say something else",
    )

    assert again.id == first.id
    assert again.lines == first.lines
    assert book_state() == after_first
    assert balances(*CODES) == {
        "clearing:alipay": 10000,
        "platform:revenue": -3000,
        "payable:cp:1": -7000,
    }


@pytest.mark.parametrize(
    ("kind", "reference", "lines"),
    [
        (
            "order.paid",
            "order:1",
            [LineSpec("clearing:alipay", 1), LineSpec("platform:revenue", -1)],
        ),
        ("order.paid", "order:2", PAID),
        ("order.refunded", "order:1", PAID),
    ],
    ids=["other-lines", "other-reference", "other-kind"],
)
def test_the_same_key_with_other_content_is_a_conflict(kind, reference, lines):
    journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)
    after_first = book_state()

    with pytest.raises(IdempotencyConflict) as info:
        journal_post(idempotency_key="k", kind=kind, reference=reference, lines=lines)

    assert (info.value.code, info.value.http_status) == ("IDEMPOTENCY_CONFLICT", 409)
    assert book_state() == after_first


# --- Reversals ------------------------------------------------------------------------------


def test_a_reversal_negates_the_journal_and_returns_the_balances():
    original = journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)

    reversal = journal_reverse(
        journal_id=original.id, idempotency_key="k:reverse", reason="支付渠道撤销"
    )

    assert reversal.kind == "reversal"
    assert reversal.reversal_of_id == original.id
    assert reversal.reference == "order:1"
    assert reversal.description == "支付渠道撤销"
    assert reversal.lines == (
        LineView("clearing:alipay", -10000),
        LineView("payable:cp:1", 7000),
        LineView("platform:revenue", 3000),
    )
    assert balances(*CODES) == {"clearing:alipay": 0, "platform:revenue": 0, "payable:cp:1": 0}
    assert [j.id for j in journals_for_reference(reference="order:1")] == [original.id, reversal.id]
    event = AuditEvent.objects.get(action="ledger.journal_reversed")
    assert event.object_id == str(reversal.id)
    assert event.after["reversal_of"] == original.id


def test_a_journal_is_reversed_once():
    original = journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)
    first = journal_reverse(journal_id=original.id, idempotency_key="rev-1", reason="撤销")
    after_first = book_state()

    again = journal_reverse(journal_id=original.id, idempotency_key="rev-1", reason="撤销")
    with pytest.raises(AlreadyReversed) as info:
        journal_reverse(journal_id=original.id, idempotency_key="rev-2", reason="撤销")

    assert again.id == first.id
    assert (info.value.code, info.value.http_status) == ("LEDGER_ALREADY_REVERSED", 409)
    assert info.value.details == {"journal_id": original.id, "reversal_id": first.id}
    assert book_state() == after_first


def test_a_reversal_cannot_be_reversed():
    original = journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)
    reversal = journal_reverse(journal_id=original.id, idempotency_key="rev", reason="撤销")
    after_reversal = book_state()

    with pytest.raises(ReversalNotReversible) as info:
        journal_reverse(journal_id=reversal.id, idempotency_key="rev-rev", reason="撤销撤销")

    assert (info.value.code, info.value.http_status) == ("LEDGER_REVERSAL_NOT_REVERSIBLE", 409)
    assert book_state() == after_reversal


def test_reversing_under_a_key_used_for_something_else_is_a_conflict():
    original = journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)
    after_post = book_state()

    with pytest.raises(IdempotencyConflict):
        journal_reverse(journal_id=original.id, idempotency_key="k", reason="撤销")

    assert book_state() == after_post


def test_reversing_a_missing_journal_or_without_a_reason_is_refused():
    with pytest.raises(JournalNotFound) as info:
        journal_reverse(journal_id=999999, idempotency_key="rev", reason="撤销")
    assert (info.value.code, info.value.http_status) == ("LEDGER_JOURNAL_NOT_FOUND", 404)
    original = journal_post(idempotency_key="k", kind="order.paid", reference="order:1", lines=PAID)
    with pytest.raises(InvalidJournal):
        journal_reverse(journal_id=original.id, idempotency_key="rev", reason=" ")
    assert not Journal.objects.filter(kind="reversal").exists()


# --- Accounts -------------------------------------------------------------------------------


def test_account_ensure_creates_once_with_a_zero_balance():
    before = AuditEvent.objects.filter(action="ledger.account_created").count()

    first = services.account_ensure(code="payable:partner:7", name="伙伴 7", kind="liability")
    again = services.account_ensure(code="payable:partner:7", name="另一个名字", kind="liability")

    assert again == first
    account = LedgerAccount.objects.get(pk=first)
    assert (account.code, account.name, account.kind, account.unit) == (
        "payable:partner:7",
        "伙伴 7",
        "liability",
        "CNY",
    )
    assert AccountBalance.objects.get(account_id=first).balance_fen == 0
    assert AuditEvent.objects.filter(action="ledger.account_created").count() == before + 1


def test_account_ensure_refuses_another_kind_or_unit_and_bad_codes():
    services.account_ensure(code="payable:partner:7", name="伙伴 7", kind="liability")
    count = LedgerAccount.objects.count()

    with pytest.raises(AccountMismatch) as info:
        services.account_ensure(
            code="payable:partner:7", name="伙伴 7", kind="liability", unit="POINTS"
        )
    assert info.value.details == {"code": "payable:partner:7", "kind": "liability", "unit": "CNY"}
    for code, kind, unit in [
        ("Payable:X", "liability", "CNY"),
        ("nocolon", "liability", "CNY"),
        ("payable:partner:8", "debt", "CNY"),
        ("payable:partner:8", "liability", "USD"),
    ]:
        with pytest.raises(InvalidAccount):
            services.account_ensure(code=code, name="x", kind=kind, unit=unit)
    assert LedgerAccount.objects.count() == count


def test_the_standard_accounts_exist_and_bootstrap_is_idempotent():
    ids = services.ledger_bootstrap()

    assert services.ledger_bootstrap() == ids
    assert list(
        LedgerAccount.objects.filter(pk__in=ids)
        .order_by("code")
        .values_list("code", "kind", "unit")
    ) == [
        ("clearing:alipay", "asset", "CNY"),
        ("clearing:carrier_billing", "asset", "CNY"),
        ("clearing:unionpay", "asset", "CNY"),
        ("clearing:wechat", "asset", "CNY"),
        ("platform:points_expense", "expense", "CNY"),
        ("platform:revenue", "revenue", "CNY"),
        ("points:expired", "revenue", "POINTS"),
        ("points:issued", "expense", "POINTS"),
        ("points:redeemed", "revenue", "POINTS"),
        ("refunds:payable", "liability", "CNY"),
    ]
    assert AccountBalance.objects.filter(account_id__in=ids).count() == 10
