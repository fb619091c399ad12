"""Request helpers that need configuration: the client's address behind trusted proxies, safe
redirects, and where the request in progress came from (address and device), for checks made
deep in services (risk control) without threading them through every signature."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT hops back in X-Forwarded-For."""
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.META.get("REMOTE_ADDR") or None


def safe_next_url(request: HttpRequest, target: str | None, *, default: str = "/") -> str:
    """``target`` when it is a path on this site (``/orders/7/``), ``default`` otherwise.

    Django's host-and-scheme check refuses other sites and ``javascript:``; requiring one
    leading slash (not ``//`` or ``/\\``) also refuses scheme-relative and bare-host forms.
    """
    target = (target or "").strip()
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return target
    return default


# A device names itself with ``X-Device-Id`` (the apps) or the ``ch_did`` cookie the
# platform gives a browser (``RequestOriginMiddleware``); anything else is ignored.
DEVICE_HEADER = "X-Device-Id"
DEVICE_COOKIE = "ch_did"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_.:-]{6,64}$")


@dataclass(frozen=True)
class Origin:
    ip: str = ""
    device_id: str = ""


_NOWHERE = Origin()
_origin: ContextVar[Origin | None] = ContextVar("request_origin", default=None)


def device_id(request: HttpRequest) -> str:
    """The device id the client presented (header first, then cookie), or "" for none."""
    for value in (request.headers.get(DEVICE_HEADER, ""), request.COOKIES.get(DEVICE_COOKIE, "")):
        if value and _DEVICE_ID.match(value):
            return value
    return ""


def current_origin() -> Origin:
    """Where the request being served came from; empty outside a request (a task, a shell)."""
    return _origin.get() or _NOWHERE


@contextmanager
def origin_bound(origin: Origin) -> Iterator[None]:
    """Make ``origin`` the current one for the block (the middleware, and tests)."""
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)
