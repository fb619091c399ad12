"""The demo's default rules against what content and marketing book: a CP's payable already
holds its share and a channel's its commission, so a statement pays exactly the account's
movement and the platform keeps nothing a second time."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.demo.settlement_seed import seed_settlement_rules
from apps.settlement import services
from apps.settlement.models import SettlementRule, Statement
from apps.settlement.services import SHANGHAI
from apps.settlement.tests.support import post

pytestmark = pytest.mark.django_db

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def at(day: int) -> dt.datetime:
    return dt.datetime.combine(dt.date(2026, 10, day), dt.time(12), tzinfo=SHANGHAI)


def test_the_seeded_rules_pay_what_content_and_marketing_booked() -> None:
    seed_settlement_rules()
    SettlementRule.objects.update(effective_from=dt.date(2026, 1, 1))  # seeded "from today"
    # content.share: 70 % of two sales booked by content; content.unshare: one refunded.
    post("cp", 7, 20_930, journal_kind="content.share", at=at(3))
    post("cp", 7, 6_930, journal_kind="content.share", at=at(9))
    post("cp", 7, -6_930, journal_kind="content.unshare", at=at(10))
    # channel.commission accrued on completed orders, one reversed by a refund.
    post("channel", 3, 9_000, journal_kind="channel.commission", at=at(4))
    post("channel", 3, -1_000, journal_kind="channel.commission_reversed", at=at(5))

    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    services.batch_run(kind="channel", period_start=OCT, period_end=NOV)

    cp = Statement.objects.get(kind="cp", party_id=7)
    channel = Statement.objects.get(kind="channel", party_id=3)
    assert cp.tie_out_ok and channel.tie_out_ok
    assert (cp.party_fen, cp.commission_fen, cp.payout_fen) == (20_930, 0, 20_930)
    assert (channel.party_fen, channel.commission_fen, channel.payout_fen) == (8_000, 0, 8_000)
