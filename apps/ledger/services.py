"""Ledger writes: accounts, balanced journals posted once per key, and their reversals.

Signs: a debit is positive, a credit negative; every journal sums to zero, so assets and
expenses carry positive balances and liabilities, revenue and equity negative ones.

Account codes: the standard accounts below (created by migration 0003), and per party
``points:user:<user_id>`` (liability, POINTS), ``payable:cp:<id>``, ``payable:channel:<id>``
and ``payable:partner:<id>`` (liability, CNY), created on first use with ``account_ensure``.

Hot accounts: the standard platform accounts are spread over ``balance_slots`` sub-balance
rows (``AccountBalanceSlot``, 32 each): a posting moves, on each of them, the slot its
journal's idempotency key picks (``crc32(key) % balance_slots``), and its balance is the
account's balance row plus its slots. Every payment credits ``platform:revenue`` and debits a
clearing account; with one row each, every payment in flight queued on the same two row
locks. A party's points holding is never spread (the database refuses it): its floor is
checked against its one locked row, as before.

Points are their own unit (POINTS, whole points) and never share a journal with CNY:

- a user's ``points:user:<id>`` is a liability: the points we owe them (holding 500 points
  is a balance of -500);
- granting points debits ``points:issued`` (expense) and credits the user's account;
- spending points debits the user's account and credits ``points:redeemed`` (revenue);
- points that lapse are debited from the user's account to ``points:expired`` (revenue);
- giving spent points back (a refund) reverses the spending journal.

So points issued always equal points outstanding + redeemed + expired. What redeemed points
cost in money is booked by the caller in a separate CNY journal at redemption: the part of the
price paid in points is debited to ``platform:points_expense`` beside the cash received, and
the full price is credited to ``platform:revenue``.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import IdempotencyConflict
from apps.core.idempotency import request_fingerprint
from apps.core.transactions import helper_atomic
from apps.ledger.errors import (
    AccountMismatch,
    AlreadyReversed,
    InsufficientBalance,
    InvalidAccount,
    InvalidJournal,
    JournalNotFound,
    MixedUnits,
    ReversalNotReversible,
    UnbalancedJournal,
    UnknownAccount,
)
from apps.ledger.models import (
    MAX_BALANCE_SLOTS,
    AccountBalance,
    AccountBalanceSlot,
    AccountKind,
    AccountUnit,
    Journal,
    JournalLine,
    LedgerAccount,
)
from apps.ledger.selectors import JournalView, LineView, journal_get

REVERSAL = "reversal"
_CODE = re.compile(r"[a-z][a-z0-9_]*(:[a-z0-9_]+)+")
_KEY_MAX, _KIND_MAX, _REFERENCE_MAX, _DESCRIPTION_MAX = 128, 32, 64, 255


@dataclass(frozen=True)
class LineSpec:
    """One line to post: debit > 0, credit < 0, in fen (CNY) or points (POINTS)."""

    account_code: str
    amount_fen: int


@dataclass(frozen=True)
class StandardAccount:
    code: str
    name: str
    kind: str
    unit: str = AccountUnit.CNY
    balance_slots: int = 32  # every payment, refund or points event posts to these


STANDARD_ACCOUNTS: tuple[StandardAccount, ...] = (
    StandardAccount("platform:revenue", "平台收入", AccountKind.REVENUE),
    StandardAccount("platform:points_expense", "积分兑付成本", AccountKind.EXPENSE),
    StandardAccount("clearing:alipay", "支付宝待清算", AccountKind.ASSET),
    StandardAccount("clearing:wechat", "微信支付待清算", AccountKind.ASSET),
    StandardAccount("clearing:unionpay", "银联待清算", AccountKind.ASSET),
    StandardAccount("clearing:carrier_billing", "话费代扣待清算", AccountKind.ASSET),
    StandardAccount("refunds:payable", "应付退款", AccountKind.LIABILITY),
    StandardAccount("points:issued", "积分发放", AccountKind.EXPENSE, AccountUnit.POINTS),
    StandardAccount("points:redeemed", "积分兑换", AccountKind.REVENUE, AccountUnit.POINTS),
    StandardAccount("points:expired", "积分过期", AccountKind.REVENUE, AccountUnit.POINTS),
)


# --- Accounts -------------------------------------------------------------------------------


def account_ensure(
    *, code: str, name: str, kind: str, unit: str = AccountUnit.CNY, balance_slots: int = 1
) -> int:
    """Return the id of account ``code``, creating it with its zero balance row if it is new.

    ``balance_slots`` > 1 spreads a new account's balance over that many sub-balance rows (for
    hot accounts without a floor; the database refuses it for a party's points holding); an
    existing account keeps its setting.

    Idempotent and race-safe: the account is claimed with ``INSERT ... ON CONFLICT DO
    NOTHING`` on its code, so concurrent callers get one account. An existing account keeps
    its name; one with another kind or unit raises ``AccountMismatch``. Locks nothing beyond
    the rows it inserts. Writes an audit event when it creates the account.
    """
    if not _CODE.fullmatch(code) or len(code) > 64 or not name or len(name) > 128:
        raise InvalidAccount(details={"code": code, "name": name})
    if kind not in AccountKind.values or unit not in AccountUnit.values:
        raise InvalidAccount(details={"kind": kind, "unit": unit})
    floor = (kind, unit) == (AccountKind.LIABILITY, AccountUnit.POINTS)
    if not 1 <= balance_slots <= MAX_BALANCE_SLOTS or (floor and balance_slots != 1):
        raise InvalidAccount(details={"balance_slots": balance_slots})
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {LedgerAccount._meta.db_table} "  # noqa: S608
                "(code, name, kind, unit, balance_slots, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO NOTHING RETURNING id",
                [code, name, kind, unit, balance_slots, now],
            )
            row = cursor.fetchone()
        if row is None:
            account = LedgerAccount.objects.get(code=code)
            if (account.kind, account.unit) != (kind, unit):
                raise AccountMismatch(
                    details={"code": code, "kind": account.kind, "unit": account.unit}
                )
            return account.pk
        account_id = int(row[0])
        AccountBalance.objects.create(account_id=account_id, balance_fen=0, updated_at=now)
        audit_record(
            action="ledger.account_created",
            object_type="ledger.account",
            object_id=account_id,
            after={
                "code": code,
                "name": name,
                "kind": kind,
                "unit": unit,
                "balance_slots": balance_slots,
            },
        )
    return account_id


def ledger_bootstrap() -> list[int]:
    """Ensure every standard account exists; return their ids in ``STANDARD_ACCOUNTS`` order.

    Migration 0003 creates them; this restores them where the tables were emptied (a test
    database after a flush) and adds any standard account introduced since. Idempotent.
    """
    return [
        account_ensure(
            code=item.code,
            name=item.name,
            kind=item.kind,
            unit=item.unit,
            balance_slots=item.balance_slots,
        )
        for item in STANDARD_ACCOUNTS
    ]


# --- Journals -------------------------------------------------------------------------------


def journal_post(
    *,
    idempotency_key: str,
    kind: str,
    reference: str,
    lines: list[LineSpec],
    description: str = "",
) -> JournalView:
    """Post one balanced journal under ``idempotency_key`` and return it.

    Refuses, before writing anything: fewer than two accounts, a zero or non-integer amount,
    or lines that do not sum to zero (``UnbalancedJournal``); an unknown account
    (``UnknownAccount``); CNY and POINTS accounts together (``MixedUnits``); an empty or
    over-long key, kind or reference, or the kind ``reversal`` (``InvalidJournal``). The
    database checks balance and units again when the transaction commits. Refuses, under the
    balance locks, a debit that would take a party's points below zero (``InsufficientBalance``).

    Lines on the same account are merged into one. Idempotent: the same key with the same
    content (kind, reference and merged lines) returns the first journal and moves nothing;
    other content raises ``IdempotencyConflict``. Race-safe: the journal row is claimed with
    ``INSERT ... ON CONFLICT DO NOTHING``, so a concurrent call with the same key waits for the
    first to commit and then returns its journal (under READ COMMITTED, Django's default).

    Locks: the key's entry in the unique index, then the single-row accounts' ``AccountBalance``
    rows in ascending account id, then, for spread accounts, the one ``AccountBalanceSlot``
    row per account that the key picks, in ascending account id (so two postings wait for
    each other on a hot account only when their keys pick the same slot). The ledger is last in the global lock order (user, order, stock,
    payment, ledger): callers post after taking their own locks. Opens its own atomic block,
    a savepoint inside a caller's transaction, with which everything commits. Writes one
    audit event, ``ledger.journal_posted``.
    """
    if kind == REVERSAL:
        raise InvalidJournal(details={"kind": "reserved for journal_reverse"})
    return _post(
        idempotency_key=idempotency_key,
        kind=kind,
        reference=reference,
        description=description,
        lines=lines,
        reversal_of_id=None,
    )


def journal_reverse(*, journal_id: int, idempotency_key: str, reason: str) -> JournalView:
    """Post the negation of journal ``journal_id`` (kind ``reversal``) and return it.

    A journal is reversed at most once: another key raises ``AlreadyReversed``; the same key
    returns the first reversal. A reversal itself cannot be reversed
    (``ReversalNotReversible``): to book the original effect again, post a new journal, so
    that every journal has at most one correction and the chain never grows. The reference is
    the original's; ``reason`` becomes the description. A reversal is exact, all or nothing:
    one that would take a party's points below zero (a grant whose points were partly spent)
    raises ``InsufficientBalance`` and moves nothing; it may be retried under the same key.

    Locks as ``journal_post``. Two reversals of one journal under different keys are
    race-safe: the unique ``reversal_of`` makes the second wait for the first to commit, then
    it raises ``AlreadyReversed``. Writes one audit event, ``ledger.journal_reversed``.
    """
    if not reason.strip():
        raise InvalidJournal(details={"reason": "required"})
    original = Journal.objects.filter(pk=journal_id).first()
    if original is None:
        raise JournalNotFound(details={"journal_id": journal_id})
    if original.reversal_of_id is not None:
        raise ReversalNotReversible(details={"journal_id": journal_id})
    negated = [
        LineSpec(account_code=code, amount_fen=-amount)
        for code, amount in JournalLine.objects.filter(journal_id=journal_id).values_list(
            "account__code", "amount_fen"
        )
    ]
    return _post(
        idempotency_key=idempotency_key,
        kind=REVERSAL,
        reference=original.reference,
        description=reason,
        lines=negated,
        reversal_of_id=journal_id,
    )


def _check_header(*, idempotency_key: str, kind: str, reference: str, description: str) -> None:
    problems = {
        name: f"1 to {limit} characters"
        for name, value, limit in (
            ("idempotency_key", idempotency_key, _KEY_MAX),
            ("kind", kind, _KIND_MAX),
            ("reference", reference, _REFERENCE_MAX),
        )
        if not value.strip() or len(value) > limit
    }
    if len(description) > _DESCRIPTION_MAX:
        problems["description"] = f"at most {_DESCRIPTION_MAX} characters"
    if problems:
        raise InvalidJournal(details=problems)


def _merge(lines: list[LineSpec]) -> dict[str, int]:
    """The lines' amounts per account, sorted by code; raises ``UnbalancedJournal``."""
    merged: dict[str, int] = {}
    for line in lines:
        # bool is an int too, but True is not an amount of money.
        if type(line.amount_fen) is not int:
            raise UnbalancedJournal(
                details={"account_code": line.account_code, "amount_fen": "not an integer"}
            )
        if line.amount_fen == 0:
            raise UnbalancedJournal(details={"account_code": line.account_code, "amount_fen": 0})
        merged[line.account_code] = merged.get(line.account_code, 0) + line.amount_fen
    total = sum(merged.values())
    if total != 0:
        raise UnbalancedJournal(details={"sum_fen": total})
    merged = {code: amount for code, amount in sorted(merged.items()) if amount != 0}
    if len(merged) < 2:
        raise UnbalancedJournal(details={"accounts": len(merged)})
    return merged


def _post(
    *,
    idempotency_key: str,
    kind: str,
    reference: str,
    description: str,
    lines: list[LineSpec],
    reversal_of_id: int | None,
) -> JournalView:
    _check_header(
        idempotency_key=idempotency_key, kind=kind, reference=reference, description=description
    )
    merged = _merge(lines)
    with helper_atomic():
        accounts = _accounts_by_code(list(merged))
        units = {account.unit for account in accounts.values()}
        if len(units) > 1:
            raise MixedUnits(details={"units": {code: a.unit for code, a in accounts.items()}})
        content_hash = request_fingerprint(
            {
                "kind": kind,
                "reference": reference,
                "reversal_of": reversal_of_id,
                "lines": list(merged.items()),
            }
        )
        now = timezone.now()
        journal_id = _post_journal(
            accounts,
            merged,
            header=(idempotency_key, kind, reference, description, content_hash),
            reversal_of_id=reversal_of_id,
            now=now,
        )
        if journal_id is None:
            return _repeat(
                idempotency_key=idempotency_key,
                content_hash=content_hash,
                reversal_of_id=reversal_of_id,
            )
        after: dict[str, Any] = {
            "idempotency_key": idempotency_key,
            "kind": kind,
            "reference": reference,
            "lines": merged,
        }
        if reversal_of_id is not None:
            after |= {"reversal_of": reversal_of_id, "reason": description}
        audit_record(
            action="ledger.journal_reversed" if reversal_of_id else "ledger.journal_posted",
            object_type="ledger.journal",
            object_id=journal_id,
            after=after,
        )
    return JournalView(
        id=journal_id,
        idempotency_key=idempotency_key,
        kind=kind,
        reference=reference,
        description=description,
        unit=units.pop(),
        reversal_of_id=reversal_of_id,
        created_at=now,
        lines=tuple(LineView(code, amount) for code, amount in merged.items()),
    )


# (idempotency_key, kind, reference, description, content_hash)
_Header = tuple[str, str, str, str, str]


def _accounts_fresh(merged: dict[str, int]) -> dict[str, _Account]:
    """The accounts as they are now, from the database (the process's cached ids were stale)."""
    _account_cache.clear()
    return _accounts_by_code(list(merged), fresh=True)


def _post_journal(
    accounts: dict[str, _Account],
    merged: dict[str, int],
    *,
    header: _Header,
    reversal_of_id: int | None,
    now: datetime,
) -> int | None:
    """Write the journal, its lines and the balance moves; its id, or ``None`` if a unique
    index refused the journal (a repeat of the key, or a journal already reversed)."""
    slot_key = zlib.crc32(header[0].encode())
    for attempt in range(2):  # a second time with the accounts as the database has them now
        if not all(account.balance_slots > 1 for account in accounts.values()):
            break
        try:
            return _post_spread(
                accounts, merged, slot_key=slot_key, header=header,
                reversal_of_id=reversal_of_id, now=now,
            )  # fmt: skip
        except _StaleAccounts as exc:
            if attempt:
                raise RuntimeError(f"ledger accounts changed while posting: {merged}") from exc
            accounts = _accounts_fresh(merged)
    idempotency_key, kind, reference, description, content_hash = header
    journal_id = _claim(
        idempotency_key=idempotency_key,
        kind=kind,
        reference=reference,
        description=description,
        content_hash=content_hash,
        reversal_of_id=reversal_of_id,
        now=now,
    )
    if journal_id is None:
        return None
    try:
        moves = _lock_accounts(accounts, merged, slot_key=slot_key, now=now)
    except _StaleAccounts:
        accounts = _accounts_fresh(merged)
        try:
            moves = _lock_accounts(accounts, merged, slot_key=slot_key, now=now)
        except _StaleAccounts as exc:
            # Every account gets its balance row with it (account_ensure, migration 0003).
            raise RuntimeError(f"ledger accounts without a balance row: {merged}") from exc
    _check_holdings(accounts=accounts, merged=merged, held=moves.held)
    JournalLine.objects.bulk_create(
        JournalLine(
            journal_id=journal_id,
            account_id=accounts[code].pk,
            amount_fen=amount,
            created_at=now,
        )
        for code, amount in merged.items()
    )
    if moves.single:
        _move_balances(moves.single, now=now)
    if moves.slotted and not moves.slots_moved:
        _move_slots(moves.slotted, codes=None, now=now)
    return journal_id


def _post_spread(
    accounts: dict[str, _Account],
    merged: dict[str, int],
    *,
    slot_key: int,
    header: _Header,
    reversal_of_id: int | None,
    now: datetime,
) -> int | None:
    """A journal on spread accounts only (a payment: clearing and revenue) in ONE statement:
    the journal's claim, its lines and the slots' upsert, in the lock order of ``_post`` (the
    key's index entry, then the slots in ascending account id). Nothing is written when an id
    from the process's cache no longer names its account (``_StaleAccounts``, checked before
    the claim) or when a unique index refuses the journal (``None``: a repeat, or a journal
    already reversed; the INSERT waits for a concurrent twin to end, as ``_claim`` does).

    Every line carries the journal's ``created_at`` (the partition check); the balance and
    unit checks run at COMMIT (deferred triggers), as for every posting. Nothing to check
    under a lock: spread accounts have no floor (``_check_holdings`` is for points holdings,
    which are never spread)."""
    ids = {accounts[code].pk: code for code in merged}
    keys = sorted((accounts[code].pk, slot_key % accounts[code].balance_slots) for code in merged)
    amounts = [merged[ids[account]] for account, _ in keys]
    in_order = [account for account, _ in keys]
    params: list[Any] = [list(ids), list(ids.values()), *header, reversal_of_id, now, len(ids)]
    params += [now, in_order, [slot for _, slot in keys], amounts, now, in_order, amounts]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH c AS (SELECT count(*) AS n FROM {LedgerAccount._meta.db_table} a "  # noqa: S608
            "JOIN unnest(%s::bigint[], %s::text[]) AS c(id, code) ON a.id = c.id AND a.code = c.code), "
            f"j AS (INSERT INTO {Journal._meta.db_table} "
            "(idempotency_key, kind, reference, description, content_hash, reversal_of_id, "
            "created_at) SELECT %s, %s, %s, %s, %s, %s, %s FROM c WHERE c.n = %s "
            "ON CONFLICT DO NOTHING RETURNING id), "
            f"s AS (INSERT INTO {AccountBalanceSlot._meta.db_table} AS s "
            "(account_id, slot, balance_fen, updated_at) "
            "SELECT d.account_id, d.slot, d.amount, %s "
            "FROM unnest(%s::bigint[], %s::smallint[], %s::bigint[]) AS d(account_id, slot, amount) "
            "WHERE EXISTS (SELECT 1 FROM j) ORDER BY d.account_id "
            "ON CONFLICT (account_id, slot) DO UPDATE "
            "SET balance_fen = s.balance_fen + EXCLUDED.balance_fen, "
            "updated_at = EXCLUDED.updated_at RETURNING 1), "
            f"l AS (INSERT INTO {JournalLine._meta.db_table} "
            "(journal_id, account_id, amount_fen, created_at) "
            "SELECT j.id, d.account_id, d.amount, %s FROM j "
            "CROSS JOIN unnest(%s::bigint[], %s::bigint[]) AS d(account_id, amount) RETURNING 1) "
            "SELECT (SELECT n FROM c), (SELECT id FROM j), (SELECT count(*) FROM s), "
            "(SELECT count(*) FROM l)",
            params,
        )
        found, journal_id, slots, lines = cursor.fetchone()
    if found != len(ids):
        raise _StaleAccounts()
    if journal_id is None:
        return None
    if slots != len(keys) or lines != len(keys):  # cannot happen: the statement wrote both
        raise RuntimeError(f"ledger: journal {journal_id} posted {lines} lines, {slots} slots")
    return int(journal_id)


def _claim(
    *,
    idempotency_key: str,
    kind: str,
    reference: str,
    description: str,
    content_hash: str,
    reversal_of_id: int | None,
    now: datetime,
) -> int | None:
    """Insert the journal row and return its id, or ``None`` if a unique index refused it.

    The refusal comes from the key (a repeat) or from ``reversal_of`` (already reversed); a
    concurrent insert of either waits here until the other transaction ends.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Journal._meta.db_table} "  # noqa: S608
            "(idempotency_key, kind, reference, description, content_hash, reversal_of_id, "
            "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            [idempotency_key, kind, reference, description, content_hash, reversal_of_id, now],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _repeat(*, idempotency_key: str, content_hash: str, reversal_of_id: int | None) -> JournalView:
    """The journal already posted under the key, if it has the same content."""
    existing = Journal.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        # Only reversal_of's unique index refuses a new key: the journal has another reversal.
        reversal = Journal.objects.get(reversal_of_id=reversal_of_id)
        raise AlreadyReversed(details={"journal_id": reversal_of_id, "reversal_id": reversal.pk})
    if existing.content_hash != content_hash:
        raise IdempotencyConflict(details={"idempotency_key": idempotency_key})
    return journal_get(journal_id=existing.pk)


@dataclass(frozen=True)
class _Account:
    """What posting needs of an account. Code, kind and unit never change once the account
    exists; ``balance_slots`` may, and a stale copy still posts correctly, since every reader
    adds the balance row and the slots, wherever a posting went."""

    pk: int
    kind: str
    unit: str
    balance_slots: int


# code -> account, per process: posting resolves its accounts without a query. An entry is
# checked by the balance lock every posting takes anyway (the locked row's account code must
# match); a mismatch (an account that was rolled back or deleted, as tests do) empties the cache.
_account_cache: dict[str, _Account] = {}


def _accounts_by_code(codes: list[str], *, fresh: bool = False) -> dict[str, _Account]:
    """The accounts by code, from the cache where it has them (``fresh``: all from the database).

    Built from locals, so another thread emptying the cache meanwhile changes nothing here.
    """
    found = (
        {} if fresh else {code: _account_cache[code] for code in codes if code in _account_cache}
    )
    missing = [code for code in codes if code not in found]
    if missing:
        for code, pk, kind, unit, slots in LedgerAccount.objects.filter(
            code__in=missing
        ).values_list("code", "pk", "kind", "unit", "balance_slots"):
            found[code] = _account_cache[code] = _Account(
                pk=pk, kind=kind, unit=unit, balance_slots=slots
            )
    unknown = sorted(code for code in codes if code not in found)
    if unknown:
        raise UnknownAccount(details={"codes": unknown})
    return found


class _StaleAccounts(Exception):
    pass


@dataclass(frozen=True)
class _Moves:
    """What a posting moves: single balance rows by account id, slots by (account id, slot)."""

    single: dict[int, int]
    slotted: dict[tuple[int, int], int]
    held: dict[int, int]  # the single rows' balances as locked
    slots_moved: bool  # the slots' upsert already ran (it was the lock)


def _lock_accounts(
    accounts: dict[str, _Account], merged: dict[str, int], *, slot_key: int, now: datetime
) -> _Moves:
    """Lock what the posting moves, checking the cached accounts first (``_StaleAccounts``).

    Single-row accounts: their balance rows, locked and read. A journal on spread accounts
    only (a payment: clearing and revenue) has nothing to read under a lock, so the slots'
    upsert is its lock, its check and its move in one statement.
    """
    single = {a.pk: merged[code] for code, a in accounts.items() if a.balance_slots == 1}
    slotted = {
        (a.pk, slot_key % a.balance_slots): merged[code]
        for code, a in accounts.items()
        if a.balance_slots > 1
    }
    codes = {accounts[code].pk: code for code in merged}
    if single:
        held = _lock_balances(sorted(single), codes=codes)
        return _Moves(single=single, slotted=slotted, held=held, slots_moved=False)
    if not _move_slots(slotted, codes=codes, now=now):
        raise _StaleAccounts()
    return _Moves(single=single, slotted=slotted, held={}, slots_moved=True)


def _lock_balances(account_ids: list[int], *, codes: dict[int, str]) -> dict[int, int]:
    """Lock the accounts' balance rows in ascending id, the ledger's one lock order; return
    their balances as locked.

    The ids may come from the process's cache: the statement locks nothing unless every id in
    ``codes`` (the journal's accounts, spread ones too) still names its account (checked once,
    before any row is locked, so a stale cache never leaves some rows locked out of order);
    then ``_StaleAccounts``.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT b.account_id, b.balance_fen FROM {AccountBalance._meta.db_table} b "  # noqa: S608
            "WHERE b.account_id = ANY(%s) AND (SELECT count(*) FROM "
            f"{LedgerAccount._meta.db_table} a JOIN unnest(%s::bigint[], %s::text[]) "
            "AS c(id, code) ON a.id = c.id AND a.code = c.code) = %s "
            "ORDER BY b.account_id FOR UPDATE",
            [account_ids, list(codes), list(codes.values()), len(codes)],
        )
        locked = dict(cursor.fetchall())
    if sorted(locked) != account_ids:
        raise _StaleAccounts()
    return locked


def _check_holdings(
    *, accounts: dict[str, _Account], merged: dict[str, int], held: dict[int, int]
) -> None:
    """Refuse a debit that would take a party's points below zero (``InsufficientBalance``).

    A points liability (``points:user:<id>``) is what we owe its holder, so a debit balance
    would mean the holder owes us points, which nothing may create: not a spend, and not a
    reversal of a grant whose points were partly spent (a reversal is exact, so it is refused
    whole). Checked against the balances just locked, so concurrent spends cannot both pass.
    Money accounts have no floor here: their owners' rules decide what may be posted.
    """
    for code, amount in merged.items():
        account = accounts[code]
        if amount <= 0 or account.unit != AccountUnit.POINTS:
            continue
        if account.kind == AccountKind.LIABILITY and held[account.pk] + amount > 0:
            raise InsufficientBalance(
                details={"account_code": code, "held": -held[account.pk], "debit": amount}
            )


def _move_balances(amounts: dict[int, int], *, now: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AccountBalance._meta.db_table} AS b "  # noqa: S608
            "SET balance_fen = b.balance_fen + d.amount, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS d(account_id, amount) "
            "WHERE b.account_id = d.account_id",
            [now, list(amounts), list(amounts.values())],
        )


def _move_slots(
    slotted: dict[tuple[int, int], int], *, codes: dict[int, str] | None, now: datetime
) -> bool:
    """Add the amounts to the accounts' slots (created by the first posting that lands in
    one), locking them in ascending account id; ``False`` if it moved nothing because an id in
    ``codes`` no longer names its account (the cache check of ``_lock_balances``)."""
    keys = sorted(slotted)
    check = ""
    params: list[Any] = []
    if codes is not None:
        check = (
            f"WHERE (SELECT count(*) FROM {LedgerAccount._meta.db_table} a "  # noqa: S608
            "JOIN unnest(%s::bigint[], %s::text[]) AS c(id, code) "
            "ON a.id = c.id AND a.code = c.code) = %s "
        )
        params = [list(codes), list(codes.values()), len(codes)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AccountBalanceSlot._meta.db_table} AS s "  # noqa: S608
            "(account_id, slot, balance_fen, updated_at) "
            "SELECT d.account_id, d.slot, d.amount, %s "
            "FROM unnest(%s::bigint[], %s::smallint[], %s::bigint[]) AS d(account_id, slot, amount) "
            f"{check}ORDER BY d.account_id "
            "ON CONFLICT (account_id, slot) DO UPDATE "
            "SET balance_fen = s.balance_fen + EXCLUDED.balance_fen, updated_at = EXCLUDED.updated_at",
            [
                now,
                [account for account, _ in keys],
                [slot for _, slot in keys],
                [slotted[key] for key in keys],
                *params,
            ],
        )
        return cursor.rowcount == len(keys)
