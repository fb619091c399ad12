"""Channel links: ``?ch=<code>`` on any page keeps the channel's code in a cookie for 30 days,
and the checkout puts it on the order. An unknown code is ignored (no error for a visitor)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.marketing.selectors import channel_code_resolve

COOKIE = "ch"
COOKIE_DAYS = 30


class ChannelCodeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        code = request.GET.get("ch", "")
        if code and request.method == "GET" and channel_code_resolve(code=code) is not None:
            response.set_cookie(
                COOKIE, code, max_age=COOKIE_DAYS * 86_400, httponly=True, samesite="Lax"
            )
        return response
