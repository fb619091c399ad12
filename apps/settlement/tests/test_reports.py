"""Finance reports: figures equal ledger sums to the fen, CSV/XLSX/PDF, downloads audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.core.tests.test_pdf_font import embedded_font_names
from apps.ledger import selectors as ledger
from apps.settlement import exports, services
from apps.settlement.models import ReportExport, Statement
from apps.settlement.reports import writers
from apps.settlement.reports.sources import REPORTS, Params
from apps.settlement.tests.support import post
from apps.settlement.tests.test_batches import NOV, OCT, at, rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(settings, tmp_path) -> User:
    settings.SETTLEMENT_REPORTS_DIR = tmp_path
    return User.objects.create_superuser("13800138009")


def book_october() -> None:
    rule(rate=Decimal("0.7"))
    post("cp", 1, 10_001, at=at(dt.date(2026, 10, 5)))
    post("cp", 2, 333, at=at(dt.date(2026, 10, 6)), clearing="clearing:wechat")
    post("cp", 1, -101, journal_kind="refund", at=at(dt.date(2026, 10, 7)))
    post("channel", 3, 77, journal_kind="channel_commission", at=at(dt.date(2026, 10, 8)))


def rows(report: str, params: Params) -> list[list]:
    return list(REPORTS[report].rows(params))


def fen(yuan: str) -> int:
    whole, cents = yuan.lstrip("-").split(".")
    return (-1 if yuan.startswith("-") else 1) * (int(whole) * 100 + int(cents))


def test_trial_balance_equals_the_ledger_to_the_fen() -> None:
    book_october()
    params = Params(OCT, NOV)
    report = {row[0]: row for row in rows("trial_balance", params)}
    start, end = services.day_start(OCT), services.day_start(NOV)
    for code in ("cp:1:payable", "cp:2:payable", "clearing:alipay", "clearing:wechat"):
        assert fen(report[code][5]) == ledger.account_movement(code=code, start=start, end=end)
    assert report["cp:1:payable"][3:] == ["1.01", "100.01", "-99.00"]
    assert sum(fen(row[5]) for row in report.values()) == 0


def test_payments_by_method_and_revenue_by_counterparty() -> None:
    book_october()
    params = Params(OCT, NOV)
    payments = rows("payments_by_method", params)
    assert ["2026-10-06", "wechat", "3.33", "0.00", "3.33"] in payments
    assert ["2026-10-07", "alipay", "0.00", "1.01", "-1.01"] in payments
    revenue = rows("revenue", params)
    assert ["cp", 1, "cp:1:payable", "99.00"] in revenue
    assert ["cp", 2, "cp:2:payable", "3.33"] in revenue
    assert ["channel", 3, "channel:3:payable", "0.77"] in revenue


def test_statement_csv_and_xlsx_carry_every_line() -> None:
    book_october()
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    statement = Statement.objects.get(party_id=1)
    report = REPORTS["statement_lines"]
    params = Params(OCT, NOV, statement_id=statement.pk)
    text = "".join(writers.csv_chunks([str(h) for h in report.header], report.rows(params)))
    body = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [row[-1] for row in body[1:]] == ["-100.01", "1.01"]
    assert sum(fen(row[-1]) for row in body[1:]) == statement.ledger_movement_fen


def test_statement_pdf_is_in_chinese() -> None:
    book_october()
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    from apps.settlement import selectors

    statement = selectors.statement_get(statement_id=Statement.objects.get(party_id=1).pk)
    body = writers.statement_pdf(statement, selectors.statement_lines(statement_id=statement.id))

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert "结算对账单" in text
    assert "内容提供商" in text and "销售" in text and "退款" in text
    assert "69.30" in text  # the CP's amount: 99.00 at 70%
    assert embedded_font_names(body), "the CJK font is embedded, not left to the viewer"


def test_an_export_is_written_by_the_task_and_its_download_audited(
    finance: User, django_capture_on_commit_callbacks
) -> None:
    book_october()
    with django_capture_on_commit_callbacks(execute=True):
        export_id = exports.export_request(
            report="trial_balance", params=Params(OCT, NOV), fmt="xlsx", actor_id=finance.pk
        )  # the task runs (eagerly in tests) once the request commits

    export = ReportExport.objects.get(pk=export_id)
    assert (export.status, export.rows_written) == ("done", 5)
    path = exports.export_download(export_id=export_id, actor_id=finance.pk)
    sheet = load_workbook(path, read_only=True).active
    values = list(sheet.values)
    assert values[0][0] in ("Account", "账户")
    assert ("cp:1:payable", "cp 1", "liability", "1.01", "100.01", "-99.00") in values
    event = AuditEvent.objects.get(action="settlement.downloaded")
    assert event.actor_id == finance.pk
    assert event.after is not None
    assert (event.after["report"], event.after["format"]) == ("trial_balance", "xlsx")


def test_an_unknown_report_is_refused_and_nothing_queued(finance: User) -> None:
    with pytest.raises(exports.UnknownReport):
        exports.export_request(report="nope", params=Params(OCT, NOV), fmt="csv", actor_id=None)
    assert not ReportExport.objects.exists()


def test_the_workbench_downloads_a_statement_pdf_and_audits_it(client, finance: User) -> None:
    book_october()
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    statement = Statement.objects.get(party_id=1)
    client.force_login(finance)

    response = client.get(f"/admin/settlement/statement/{statement.pk}/file/pdf/")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    event = AuditEvent.objects.get(action="settlement.downloaded")
    assert event.after == {"statement_id": str(statement.pk), "format": "pdf"}
    assert event.actor_id == finance.pk


def test_the_workbench_confirm_action_is_maker_checker(client, finance: User) -> None:
    book_october()
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV, run_by_id=finance.pk)
    statement = Statement.objects.get(party_id=1)
    client.force_login(finance)

    client.post(
        "/admin/settlement/statement/",
        {"action": "confirm", "_selected_action": [statement.pk]},
    )

    statement.refresh_from_db()
    assert statement.status == "draft"


@pytest.mark.real_second_factor
def test_the_workbench_payout_needs_a_recent_second_factor(client, finance: User, settings) -> None:
    """Marking a statement paid posts the payout: like a refund approval, it wants an
    authenticator code no older than STAFF_REAUTH_SECONDS."""
    from apps.accounts.second_factor import SESSION_KEY

    book_october()
    services.batch_run(kind="cp", period_start=OCT, period_end=NOV)
    statement = Statement.objects.get(party_id=1)
    services.statement_confirm(statement_id=statement.pk, actor_id=finance.pk)
    client.force_login(finance)
    session = client.session
    session[SESSION_KEY] = int(time.time()) - settings.STAFF_REAUTH_SECONDS - 1
    session.save()
    pay = {"action": "pay", "_selected_action": [statement.pk]}

    stale = client.post("/admin/settlement/statement/", pay)

    assert stale["Location"].startswith("/accounts/staff/verify/")
    statement.refresh_from_db()
    assert (statement.status, statement.payout_journal_id) == ("confirmed", None)
    session = client.session
    session[SESSION_KEY] = int(time.time())
    session.save()

    client.post("/admin/settlement/statement/", pay)

    statement.refresh_from_db()
    assert statement.status == "paid" and statement.payout_journal_id is not None
