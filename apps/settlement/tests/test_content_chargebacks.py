"""A content chargeback reduces what the CP is paid: settlement reads the ``content.chargeback``
journal on the CP's payable as a chargeback, beside the sales it takes back."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import User
from apps.content import services as content
from apps.content.tests.support import approved_cp, product_on_sale
from apps.content.tests.test_risk import _code, _subscriber
from apps.settlement import services
from apps.settlement.models import Statement
from apps.settlement.services import today

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_chargeback_is_taken_off_the_cps_statement(carrier_sandbox):
    cp = approved_cp(share_bp=7000)
    product = product_on_sale(cp, price_fen=2000, kind="game")
    charges = []
    for n in (1, 2):
        msisdn = _subscriber(carrier_sandbox)
        charge = content.charge_create(cp_id=cp.pk, product_id=product.pk, phone_number=msisdn,
                                       cp_order_id=f"S-{n}")  # fmt: skip
        content.charge_confirm(charge_id=charge.pk, code=_code(carrier_sandbox, msisdn))
        charges.append(charge)
    content.chargeback_record(
        charge_id=charges[0].pk, reason="申诉", source="operator", actor_id=None
    )
    start = today().replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    maker = User.objects.create_user("13800138073", is_staff=True)

    services.batch_run(kind="cp", period_start=start, period_end=end, run_by_id=maker.pk)

    statement = Statement.objects.get(kind="cp", party_id=cp.pk)
    assert (statement.volume_fen, statement.chargebacks_fen, statement.adjustments_fen,
            statement.party_fen) == (2800, 1400, 0, 1400)  # fmt: skip
    assert statement.lines.filter(category="chargeback").count() == 1
