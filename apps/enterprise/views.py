"""Enterprise pages: upload a distribution file, watch a batch run, download results, retry."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import DomainError
from apps.enterprise import billing, parsing, selectors, services
from apps.enterprise.errors import BulkBatchNotFound, NotAnEnterprise


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Distribution file (CSV or XLSX)"),
        help_text=gettext_lazy("Two columns with a header: 手机号 (or number) and 流量包 (or pack), the pack's SKU code."),
    )  # fmt: skip

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > parsing.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


def _uid(request: HttpRequest) -> int:
    return cast(int, request.user.pk)


def distributor_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in, with the enterprise or partner role; another owner's batch is a 404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            selectors.distributor_check(user_id=_uid(request))
            return view(request, *args, **kwargs)
        except NotAnEnterprise as exc:
            return render(request, "bulk/forbidden.html", {"message": exc.message}, status=403)
        except BulkBatchNotFound as exc:
            raise Http404(exc.message) from exc

    return wrapped


@distributor_page
@require_http_methods(["GET", "POST"])
def batch_list(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            created = services.bulk_batch_create(
                owner_id=_uid(request), file_name=upload.name, content=upload.read()
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
            status = exc.http_status
        else:
            if not created.created:
                messages.info(
                    request,
                    _("This file was uploaded before; nothing is sent again. Here is its batch."),
                )
            return redirect("bulk:detail", batch_no=created.batch_no)
    elif request.method == "POST":
        status = 400
    context = {
        "form": form,
        "batches": selectors.batches_for(owner_id=_uid(request)),
        "balance": billing.prepaid_balance(enterprise_id=_uid(request)),
    }
    return render(request, "bulk/list.html", context, status=status)


@distributor_page
@require_GET
def batch_detail(request: HttpRequest, batch_no: str) -> HttpResponse:
    progress = selectors.batch_progress(batch_no=batch_no, owner_id=_uid(request))
    template = "bulk/_progress.html" if getattr(request, "htmx", False) else "bulk/detail.html"
    return render(request, template, {"batch": progress})


@distributor_page
@require_GET
def batch_results(request: HttpRequest, batch_no: str) -> StreamingHttpResponse:
    lines = selectors.batch_results_csv(batch_no=batch_no, owner_id=_uid(request))
    first = next(lines)  # raises BulkBatchNotFound before the response starts
    response = StreamingHttpResponse(_chain(first, lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{batch_no}-results.csv"'
    return response


def _chain(first: str, rest: Any) -> Any:
    yield first
    yield from rest


@distributor_page
@require_POST
def batch_retry(request: HttpRequest, batch_no: str) -> HttpResponse:
    try:
        count = services.bulk_batch_retry_failed(
            batch_no=batch_no, owner_id=_uid(request), actor_id=_uid(request)
        )
    except BulkBatchNotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(count)d failed rows are being sent again.") % {"count": count}
        )
    return redirect("bulk:detail", batch_no=batch_no)
