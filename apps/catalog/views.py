"""Mall pages: home, category listings, search, suggestions, product detail, portal pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from apps.carrier.errors import CarrierUnavailable, SubscriberNotFound
from apps.carrier.services import operator_label, subscriber_lookup
from apps.catalog import selectors
from apps.catalog.cache import cached_for_anonymous
from apps.catalog.errors import ProductNotFound
from apps.catalog.forms import SearchForm
from apps.catalog.models import PortalPage
from apps.catalog.services import sanitize_description
from apps.core.phone import InvalidPhoneNumber, normalize_phone


@require_GET
@cached_for_anonymous
def home(request: HttpRequest) -> HttpResponse:
    context = {"page": selectors.home_page(), "box": selectors.recharge_box()}
    return render(request, "catalog/home.html", context)


def _listing(request: HttpRequest, *, category: str, template: str) -> HttpResponse:
    form = SearchForm(request.GET)
    filters = form.filters(category=category)
    result = selectors.product_search(filters=filters)
    if category and result.category is None:
        raise Http404
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "result": result,
        "query_without_page": params.urlencode(),
    }
    return render(request, template, context)


@require_GET
@cached_for_anonymous
def category(request: HttpRequest, slug: str) -> HttpResponse:
    return _listing(request, category=slug, template="catalog/category.html")


@require_GET
@cached_for_anonymous
def search(request: HttpRequest) -> HttpResponse:
    return _listing(request, category="", template="catalog/search.html")


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """The search box's suggestion list (an htmx fragment)."""
    names = selectors.suggest(prefix=request.GET.get("q", ""))
    return render(request, "catalog/_suggestions.html", {"names": names})


@require_GET
@cached_for_anonymous
def product(request: HttpRequest, product_id: int) -> HttpResponse:
    try:
        detail = selectors.product_detail(product_id=product_id)
    except ProductNotFound as exc:
        raise Http404 from exc
    return render(request, "catalog/product.html", {"product": detail})


@require_GET
def check_number(request: HttpRequest) -> HttpResponse:
    """Whether a number can be recharged: ours and active (an htmx fragment under the input)."""
    raw = request.GET.get("recipient", "")
    ok, message = False, ""
    try:
        msisdn = normalize_phone(raw)
        info = subscriber_lookup(msisdn=msisdn)
    except InvalidPhoneNumber as exc:
        message = str(exc.message)
    except SubscriberNotFound:
        message = _("This number is not a China Mobile number we can find.")
    except CarrierUnavailable:
        message = _("We cannot check the number right now; try again shortly.")
    else:
        if not info.is_own_network:
            message = _(
                "This number belongs to another operator (%(operator)s) and cannot be recharged here."
            ) % {"operator": operator_label(info.operator)}
        elif info.status != "active":
            message = _("This number is suspended or closed.")
        else:
            ok = True
            message = _("China Mobile · %(province)s") % {"province": info.province or ""}
    return render(request, "catalog/_number_check.html", {"ok": ok, "message": message})


@require_GET
@cached_for_anonymous
def portal_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = get_object_or_404(PortalPage, slug=slug, is_published=True)
    body = sanitize_description(page.body)
    return render(request, "catalog/portal_page.html", {"page": page, "body": body})


@require_GET
@never_cache
@ensure_csrf_cookie
def csrf(request: HttpRequest) -> HttpResponse:
    """Sets the CSRF cookie for a form on a cached page, which carries no per-visitor token."""
    return HttpResponse(status=204)
