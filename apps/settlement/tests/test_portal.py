"""Partners: monthly invoices from metered usage; each sees and downloads only its own."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import User
from apps.gateway.models import UsageHourly
from apps.gateway.tests.support import gateway_app_create
from apps.ledger import selectors as ledger
from apps.ledger.models import Journal
from apps.settlement import invoices, services
from apps.settlement.models import PartnerInvoice, Statement
from apps.settlement.services import day_start, today

pytestmark = pytest.mark.django_db


def usage(app, calls: int, *, day: dt.date, environment: str = "production") -> None:
    UsageHourly.objects.create(
        app_id=app.app_id, partner_id=app.partner_id, environment=environment,
        capability="sim-swap", hour=day_start(day) + dt.timedelta(hours=3), calls=calls,
    )  # fmt: skip


def last_month() -> tuple[dt.date, dt.date]:
    return services.month_bounds(today())


def test_partners_are_invoiced_for_production_calls_at_package_prices() -> None:
    start, end = last_month()
    first = gateway_app_create(price_per_call_fen=3, environment="production")
    second = gateway_app_create(price_per_call_fen=5, environment="production")
    from apps.gateway.models import Subscription

    Subscription.objects.update(starts_at=day_start(start))
    usage(first, 1_000, day=start)
    usage(first, 7, day=start + dt.timedelta(days=2))
    usage(first, 500, day=start, environment="sandbox")  # free
    usage(second, 10, day=start)

    ids = invoices.partner_invoices_post(period_start=start, period_end=end)
    again = invoices.partner_invoices_post(period_start=start, period_end=end)

    assert ids == again and len(ids) == 2
    mine = PartnerInvoice.objects.get(partner_id=first.partner_id)
    assert mine.amount_fen == 1_007 * 3
    assert mine.lines[0]["calls"] == 1_007
    assert ledger.account_balance(code=f"partner:{first.partner_id}:receivable") == 3_021
    assert ledger.account_balance(code=f"partner:{second.partner_id}:receivable") == 50
    assert Journal.objects.filter(kind="partner_invoice").count() == 2


@pytest.fixture
def two_partners_with_statements():
    start, end = last_month()
    first = gateway_app_create(price_per_call_fen=3, environment="production")
    second = gateway_app_create(price_per_call_fen=5, environment="production")
    from apps.gateway.models import Subscription

    Subscription.objects.update(starts_at=day_start(start))
    usage(first, 100, day=start)
    usage(second, 100, day=start)
    invoices.partner_invoices_post(period_start=start, period_end=end)
    month = today().replace(day=1)
    services.batch_run(kind="partner", period_start=month, period_end=today() + dt.timedelta(1))
    checker = User.objects.create_user("13800138077", is_staff=True)
    for statement in Statement.objects.all():
        services.statement_confirm(statement_id=statement.pk, actor_id=checker.pk)
    return first, second


def test_a_partner_sees_and_downloads_its_own_statement(client, two_partners_with_statements):
    first, _ = two_partners_with_statements
    mine = Statement.objects.get(party_id=first.partner_id)
    client.force_login(User.objects.get(pk=first.owner_id))

    listing = client.get("/developer/statements/")
    page = client.get(f"/developer/statements/{mine.pk}/")
    download = client.get(f"/developer/statements/{mine.pk}/csv/")

    assert listing.status_code == 200 and f"/developer/statements/{mine.pk}/" in listing.text
    assert page.status_code == 200 and "partner_invoice" in page.text
    body = b"".join(download.streaming_content).decode()
    assert body.count("\n") == 2 and "3.00" in body


def test_a_partner_cannot_read_another_partners_statement(client, two_partners_with_statements):
    first, second = two_partners_with_statements
    theirs = Statement.objects.get(party_id=second.partner_id)
    client.force_login(User.objects.get(pk=first.owner_id))

    for url in (f"/developer/statements/{theirs.pk}/", f"/developer/statements/{theirs.pk}/pdf/"):
        assert client.get(url).status_code == 404
    assert f"/developer/statements/{theirs.pk}/" not in client.get("/developer/statements/").text


def test_someone_without_a_partner_company_sees_nothing(client, two_partners_with_statements):
    client.force_login(User.objects.create_user("13800138055"))
    assert client.get("/developer/statements/").status_code == 404
