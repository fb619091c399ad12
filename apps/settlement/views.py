"""Counterparties' statement pages (the developer portal's, and the CP console's to mount):
a party sees and downloads its own statements past the draft stage, nobody else's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache

from apps.settlement import exports, selectors
from apps.settlement.errors import StatementNotFound
from apps.settlement.reports import writers
from apps.settlement.reports.sources import REPORTS, Params
from apps.settlement.selectors import StatementView

PartyOf = Callable[[HttpRequest], int | None]
FORMATS = ("csv", "xlsx", "pdf")


def statement_download(
    statement: StatementView, fmt: str, *, actor_id: int | None
) -> HttpResponse | StreamingHttpResponse:
    """A statement as CSV (streamed), XLSX or PDF; the download is audited."""
    exports.download_record(
        actor_id=actor_id,
        what={"statement_id": statement.id, "format": fmt},
        object_type="settlement.statement",
        object_id=statement.id,
    )
    response: HttpResponse | StreamingHttpResponse
    name = f"statement-{statement.kind}-{statement.party_id}-{statement.period_start:%Y%m}"
    if fmt == "pdf":
        body = writers.statement_pdf(
            statement, selectors.statement_lines(statement_id=statement.id)
        )
        response = HttpResponse(body, content_type="application/pdf")
    else:
        report = REPORTS["statement_lines"]
        rows = report.rows(
            Params(statement.period_start, statement.period_end, statement_id=statement.id)
        )
        header = [str(title) for title in report.header]
        if fmt == "csv":
            response = StreamingHttpResponse(
                writers.csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
            )
        else:
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / "statement.xlsx"
                writers.write_xlsx(target, str(report.title), header, rows, lambda _: None)
                response = HttpResponse(
                    target.read_bytes(),
                    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def party_statement_urls(*, kind: str, party_of: PartyOf, prefix: str = "") -> list[URLPattern]:
    """URL patterns for a console: the party's statements, one statement, its downloads.

    ``party_of(request)`` returns the signed-in user's party id of ``kind`` (None: not one).
    Mount them under the console's path from ``config/urls.py`` (a console's app sits below
    settlement and cannot import it)."""

    def party(request: HttpRequest) -> int:
        party_id = party_of(request)
        if party_id is None:
            raise Http404
        return party_id

    def own(request: HttpRequest, statement_id: int) -> StatementView:
        try:
            return selectors.statement_for_party(
                statement_id=statement_id, kind=kind, party_id=party(request)
            )
        except StatementNotFound as exc:
            raise Http404 from exc

    @never_cache
    @login_required
    def statement_list(request: HttpRequest) -> HttpResponse:
        statements = selectors.statements_for_party(kind=kind, party_id=party(request))
        return render(
            request, "settlement/statements.html", {"statements": statements, "ns": prefix}
        )

    @never_cache
    @login_required
    def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
        statement = own(request, statement_id)
        context: dict[str, Any] = {
            "statement": statement,
            "lines": selectors.statement_lines(statement_id=statement.id)[:500],
            "formats": FORMATS,
            "ns": prefix,
        }
        return render(request, "settlement/statement.html", context)

    @never_cache
    @login_required
    def statement_file(
        request: HttpRequest, statement_id: int, fmt: str
    ) -> HttpResponse | StreamingHttpResponse:
        if fmt not in FORMATS:
            raise Http404
        return statement_download(own(request, statement_id), fmt, actor_id=request.user.pk)

    return [
        path("", statement_list, name=f"{prefix}statements"),
        path("<int:statement_id>/", statement_detail, name=f"{prefix}statement"),
        path("<int:statement_id>/<str:fmt>/", statement_file, name=f"{prefix}statement-file"),
    ]


def partner_of(request: HttpRequest) -> int | None:
    """The developer portal's party: the signed-in user's approved partner company."""
    from apps.gateway.portal.selectors import partner_of as company_of

    company = company_of(user_id=request.user.pk)  # type: ignore[arg-type]
    return company.pk if company is not None and company.status == "approved" else None
