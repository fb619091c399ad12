"""Hot platform accounts keep their balance in sub-balance rows (slots), so that postings to
them do not queue on one row lock; every reader still sees one exact balance."""

import threading
import zlib

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from apps.ledger import selectors
from apps.ledger.errors import InsufficientBalance
from apps.ledger.models import AccountBalance, AccountBalanceSlot, LedgerAccount
from apps.ledger.selectors import account_balance, account_balance_from_lines, ledger_check
from apps.ledger.services import STANDARD_ACCOUNTS, LineSpec, journal_post, journal_reverse
from apps.ledger.tests.test_concurrency import run_in_threads

PAID = "clearing:alipay", "platform:revenue"


def paid(key: str, amount: int) -> int:
    return journal_post(
        idempotency_key=key,
        kind="payment.succeeded",
        reference=key,
        lines=[LineSpec(PAID[0], amount), LineSpec(PAID[1], -amount)],
    ).id


def slot_of(key: str, slots: int) -> int:
    """The slot a journal's key picks (the rule the services document)."""
    return zlib.crc32(key.encode()) % slots


def slots(code: str) -> dict[int, int]:
    return dict(
        AccountBalanceSlot.objects.filter(account__code=code).values_list("slot", "balance_fen")
    )


@pytest.mark.django_db
def test_the_platform_accounts_are_spread_and_party_accounts_are_not(accounts):
    spread = dict(LedgerAccount.objects.values_list("code", "balance_slots"))

    assert {item.code: spread[item.code] for item in STANDARD_ACCOUNTS} == {
        item.code: 32 for item in STANDARD_ACCOUNTS
    }
    assert spread["points:user:1"] == 1
    assert spread["payable:cp:1"] == 1


@pytest.mark.django_db
def test_a_hot_posting_moves_one_slot_per_account_and_the_balance_is_the_sum(accounts):
    amounts = {f"pay:{n}": 100 + n for n in range(40)}
    for key, amount in amounts.items():
        paid(key, amount)

    expected: dict[int, int] = {}
    for key, amount in amounts.items():
        slot = slot_of(key, 32)
        expected[slot] = expected.get(slot, 0) + amount
    assert slots("clearing:alipay") == expected
    assert slots("platform:revenue") == {slot: -amount for slot, amount in expected.items()}
    # The single row is no longer moved: nothing queues on it.
    assert AccountBalance.objects.get(account__code="clearing:alipay").balance_fen == 0
    total = sum(amounts.values())
    assert account_balance(code="clearing:alipay") == total
    assert account_balance(code="platform:revenue") == -total
    assert account_balance_from_lines(code="clearing:alipay") == total
    rows = {row.code: row for row in selectors.trial_balance()}
    assert (rows["clearing:alipay"].balance_fen, rows["clearing:alipay"].agrees) == (total, True)
    assert sum(row.balance_fen for row in rows.values() if row.unit == "CNY") == 0
    assert ledger_check() == []


@pytest.mark.django_db
def test_a_repeat_and_a_reversal_of_a_hot_journal(accounts):
    first = paid("pay:1", 2500)
    assert paid("pay:1", 2500) == first  # a repeat moves nothing

    journal_reverse(journal_id=first, idempotency_key="pay:1:reversed", reason="撤销")

    assert account_balance(code="clearing:alipay") == 0
    assert account_balance(code="platform:revenue") == 0
    assert ledger_check() == []


@pytest.mark.django_db
def test_a_hot_and_a_single_row_account_in_one_journal(accounts):
    journal_post(
        idempotency_key="order:1:paid",
        kind="order.paid",
        reference="order:1",
        lines=[
            LineSpec("clearing:wechat", 10000),
            LineSpec("platform:revenue", -3000),
            LineSpec("payable:cp:1", -7000),
        ],
    )

    assert AccountBalance.objects.get(account__code="payable:cp:1").balance_fen == -7000
    assert slots("clearing:wechat") == {slot_of("order:1:paid", 32): 10000}
    assert account_balance(code="platform:revenue") == -3000
    assert ledger_check() == []


@pytest.mark.django_db
def test_ledger_check_finds_a_tampered_slot(accounts):
    paid("pay:1", 800)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_accountbalanceslot SET balance_fen = balance_fen + 1"
            " WHERE account_id = %s",
            [accounts["clearing:alipay"]],
        )

    assert ledger_check() == ["account clearing:alipay: balance 801 but lines sum to 800"]


@pytest.mark.django_db
def test_the_admin_shows_the_summed_balance(client, accounts):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    paid("pay:1", 123456)
    paid("pay:2", 100)
    client.force_login(get_user_model().objects.create_superuser("13800000000", "pw"))

    page = client.get(reverse("admin:ledger_ledgeraccount_changelist"), {"q": "alipay"})

    assert "¥1,235.56" in page.content.decode()


# --- The floor of a party's points: never spread, checked exactly --------------------------


@pytest.mark.django_db
def test_the_database_refuses_to_spread_a_points_holding(accounts):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(code="points:user:1").update(balance_slots=4)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_accountbalanceslot (account_id, slot, balance_fen, updated_at)"
            " VALUES (%s, 0, -100, now())",
            [accounts["points:user:1"]],
        )
    # Nor may a spread points account become a holding while it has slots.
    journal_post(
        idempotency_key="grant", kind="points.granted", reference="user:1",
        lines=[LineSpec("points:issued", 500), LineSpec("points:user:1", -500)],
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(code="points:issued").update(kind="liability", balance_slots=1)

    assert LedgerAccount.objects.get(code="points:user:1").balance_slots == 1
    assert not AccountBalanceSlot.objects.filter(account__code="points:user:1").exists()


@pytest.mark.django_db
def test_a_spend_beside_a_spread_points_account_still_meets_the_floor(accounts):
    journal_post(
        idempotency_key="grant", kind="points.granted", reference="user:1",
        lines=[LineSpec("points:issued", 500), LineSpec("points:user:1", -500)],
    )  # fmt: skip

    journal_post(
        idempotency_key="spend:1", kind="points.redeemed", reference="order:1",
        lines=[LineSpec("points:user:1", 500), LineSpec("points:redeemed", -500)],
    )  # fmt: skip
    with pytest.raises(InsufficientBalance):
        journal_post(
            idempotency_key="spend:2", kind="points.redeemed", reference="order:2",
            lines=[LineSpec("points:user:1", 1), LineSpec("points:redeemed", -1)],
        )  # fmt: skip

    assert account_balance(code="points:user:1") == 0
    assert account_balance(code="points:redeemed") == -500
    assert account_balance(code="points:issued") == 500


# --- Concurrency, on real commits ------------------------------------------------------------


def _other_slot_key(key: str) -> str:
    return next(f"pay:b{n}" for n in range(1000) if slot_of(f"pay:b{n}", 32) != slot_of(key, 32))


@pytest.mark.django_db(transaction=True)
def test_a_posting_to_hot_accounts_does_not_wait_for_another_open_one(committed_accounts):
    """The bound the notification path had: one open posting held every later one."""
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                paid("pay:a", 100)
                holding.set()
                release.wait(30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            holding.set()
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert holding.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            paid(_other_slot_key("pay:a"), 200)
    except OperationalError as exc:
        pytest.fail(f"the second posting queued behind the first: {exc}")
    finally:
        release.set()
        thread.join()

    assert errors == []
    assert account_balance(code="clearing:alipay") == 300
    assert ledger_check() == []


@pytest.mark.django_db(transaction=True)
def test_sixteen_threads_posting_payments_keep_the_totals_exact(committed_accounts):
    def job(thread: int):
        def run() -> int:
            total = 0
            for n in range(20):
                amount = 100 + thread * 20 + n
                paid(f"pay:{thread}:{n}", amount)
                journal_post(
                    idempotency_key=f"cp:{thread}:{n}",
                    kind="order.paid",
                    reference=f"order:{thread}:{n}",
                    lines=[
                        LineSpec("clearing:wechat", 300),
                        LineSpec("platform:revenue", -100),
                        LineSpec(f"payable:cp:{1 + n % 2}", -200),
                    ],
                )
                total += amount
            return total

        return run

    results, errors = run_in_threads([job(thread) for thread in range(16)])

    assert errors == []  # no deadlock, no lost update
    total = sum(results)
    assert account_balance(code="clearing:alipay") == total
    assert account_balance(code="clearing:wechat") == 16 * 20 * 300
    assert account_balance(code="platform:revenue") == -total - 16 * 20 * 100
    assert account_balance(code="payable:cp:1") == -16 * 10 * 200
    assert account_balance(code="payable:cp:2") == -16 * 10 * 200
    for code in (*PAID, "clearing:wechat", "payable:cp:1"):
        assert account_balance(code=code) == account_balance_from_lines(code=code)
    assert len(slots("clearing:alipay")) > 1
    assert ledger_check() == []


@pytest.mark.django_db
def test_account_ensure_spreads_a_new_account_but_never_a_points_holding(accounts):
    from apps.ledger.errors import InvalidAccount
    from apps.ledger.services import account_ensure

    hot = account_ensure(code="marketing:pool", name="池", kind="expense", balance_slots=8)

    assert LedgerAccount.objects.get(pk=hot).balance_slots == 8
    for code, kind, unit, count in [
        ("points:user:9", "liability", "POINTS", 2),
        ("marketing:too_many", "expense", "CNY", 65),
        ("marketing:none", "expense", "CNY", 0),
    ]:
        with pytest.raises(InvalidAccount):
            account_ensure(code=code, name="x", kind=kind, unit=unit, balance_slots=count)
    assert not LedgerAccount.objects.filter(code__in=["points:user:9", "marketing:none"]).exists()
