"""The chart pages of the workbench and their downloads; the product-view beacon."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from apps.analytics import views_counter
from apps.analytics.charts import PAGES, Chart
from apps.analytics.forms import RangeForm, default_range
from apps.analytics.roles import user_roles
from apps.core.http import client_ip
from apps.core.ratelimit import rate_hit

VIEWS_PER_ADDRESS_MINUTE = 120
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chart_page(request: HttpRequest, *, slug: str, context: dict[str, Any]) -> HttpResponse:
    """One analytics page for a date range (``start``/``end``); ``download=<chart>`` with
    ``format=csv|xlsx`` answers that chart's table instead. Only the page's roles open it."""
    page = PAGES.get(slug)
    if page is None:
        raise Http404
    roles = set(user_roles(request.user))
    if not roles & page.roles:
        raise PermissionDenied
    first, last = default_range()
    form = RangeForm(request.GET if "start" in request.GET else None,
                     initial={"start": first, "end": last})  # fmt: skip
    if form.is_bound and form.is_valid():
        first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    charts = page.charts(first, last)
    wanted = request.GET.get("download")
    if wanted:
        chart = next((c for c in charts if c.key == wanted), None)
        if chart is None:
            raise Http404
        return _download(chart, request.GET.get("format", "csv"), f"{first}_{last}")
    return TemplateResponse(request, "analytics/page.html", {
        **context,
        "title": page.title,
        "page": page,
        "pages": [p for p in PAGES.values() if roles & p.roles],
        "form": form,
        "first": first,
        "last": last,
        "charts": charts,
        "charts_json": [c.as_json() for c in charts],
    })  # fmt: skip


def _download(chart: Chart, fmt: str, span: str) -> HttpResponse:
    header, rows = chart.table()
    name = f"{chart.key}_{span}"
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = chart.key[:31]
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    if fmt != "csv":
        raise Http404
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    # A BOM so that Excel opens the Chinese headers as UTF-8.
    response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@csrf_exempt
@require_POST
def view_beacon(request: HttpRequest, product_id: int) -> HttpResponse:
    """Count one view of a product page (sent by the page's script after it loads, so a page
    served from the page cache is counted too): one Redis increment, nothing else. One address
    counts at most ``VIEWS_PER_ADDRESS_MINUTE`` views a minute (a loop cannot inflate them)."""
    hit = rate_hit(
        key=f"views:{client_ip(request)}", limit=VIEWS_PER_ADDRESS_MINUTE, window_seconds=60
    )
    if not hit.allowed:
        return HttpResponse(status=429, headers={"Retry-After": str(hit.retry_after_seconds)})
    views_counter.view_count(product_id=product_id)
    return HttpResponse(status=204)
