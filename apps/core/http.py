"""Request helpers that need configuration: the client's address behind trusted proxies, safe redirects."""

from __future__ import annotations

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
