"""Pages of the number pool: the search fragment under a SIM card's "choose your number" step."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.errors import DomainError
from apps.simcards.patterns import Pattern
from apps.simcards.selectors import numbers_search


def _page(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() else 1


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Available numbers for the filters in the query string (an htmx fragment, or a page)."""
    query = {k: request.GET.get(k, "") for k in ("prefix", "suffix", "contains", "pattern")}
    context: dict[str, object] = {"query": query, "patterns": Pattern.choices}
    status = 200
    try:
        context["page"] = numbers_search(
            prefix=query["prefix"], suffix=query["suffix"], contains=query["contains"],
            pattern=query["pattern"], page=_page(request.GET.get("page")),
        )  # fmt: skip
    except DomainError as exc:
        context["error"] = exc.message
        status = exc.http_status
    template = (
        "simcards/_results.html" if getattr(request, "htmx", False) else "simcards/search.html"
    )
    return render(request, template, context, status=status)
