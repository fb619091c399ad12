"""The sandbox's pages for people: what the knobs do, the phones' inbox, knobs, subscribers."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.sandbox import faults, sms
from apps.sandbox.forms import InboxForm, KnobsForm
from apps.sandbox.models import Subscriber

INBOX_SIZE = 50
# A verification code is a run of 4 to 8 digits standing alone in the text.
_CODE = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])")


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/index.html", {"knobs": faults.knobs_get()})


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxForm(request.GET or None)
    to = form.cleaned_data["to"] if form.is_valid() else None
    messages = [] if form.errors else sms.sms_recent(to=to, limit=INBOX_SIZE)
    rows = []
    for message in messages:
        code = _CODE.search(message.text)
        rows.append({"message": message, "code": code.group(0) if code else ""})
    return render(request, "sandbox/inbox.html", {"form": form, "to": to, "rows": rows})


@require_http_methods(["GET", "POST"])
def knobs(request: HttpRequest) -> HttpResponse:
    current = faults.knobs_get()
    if request.method == "POST":
        form = KnobsForm(request.POST, instance=current)
        if form.is_valid():
            form.save()
            return redirect(f"{request.path}?saved=1")
    else:
        form = KnobsForm(instance=current)
    return render(request, "sandbox/knobs.html", {"form": form, "saved": "saved" in request.GET})


@require_GET
def subscriber_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "sandbox/subscribers.html", {"subscribers": Subscriber.objects.order_by("msisdn")}
    )
