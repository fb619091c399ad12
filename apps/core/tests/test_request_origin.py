"""Where a request came from (address, presented device id), bound for checks made deep in
services; the device cookie only rides on responses that are per visitor anyway."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory

from apps.core.http import DEVICE_COOKIE, Origin, current_origin
from apps.core.middleware import RequestOriginMiddleware


def _serve(request, *, set_cookie: bool = False):
    seen = []

    def view(req):
        seen.append(current_origin())
        response = HttpResponse("ok")
        if set_cookie:
            response.set_cookie("csrftoken", "t")
        return response

    response = RequestOriginMiddleware(view)(request)
    return seen[0], response


def test_the_presented_device_and_the_address_are_bound_for_the_request_only():
    factory = RequestFactory()
    by_header, _ = _serve(factory.get("/", HTTP_X_DEVICE_ID="phone-123456", REMOTE_ADDR="10.1.2.3"))
    request = factory.get("/", REMOTE_ADDR="10.1.2.4")
    request.COOKIES[DEVICE_COOKIE] = "browser-abcdef"
    by_cookie, _ = _serve(request)
    malformed, _ = _serve(factory.get("/", HTTP_X_DEVICE_ID="x y"))

    assert by_header == Origin(ip="10.1.2.3", device_id="phone-123456")
    assert by_cookie == Origin(ip="10.1.2.4", device_id="browser-abcdef")
    assert malformed.device_id == ""
    assert current_origin() == Origin()  # nothing outside a request


def test_a_browser_gets_a_device_cookie_only_with_a_per_visitor_response():
    factory = RequestFactory()
    _origin, cacheable = _serve(factory.get("/mall/"))
    _origin, sign_in_form = _serve(factory.get("/accounts/sign-in/"), set_cookie=True)
    presented = factory.get("/accounts/sign-in/", HTTP_X_DEVICE_ID="phone-123456")
    _origin, app = _serve(presented, set_cookie=True)

    assert DEVICE_COOKIE not in cacheable.cookies  # the anonymous mall page stays cacheable
    assert len(sign_in_form.cookies[DEVICE_COOKIE].value) >= 20
    assert sign_in_form.cookies[DEVICE_COOKIE]["httponly"]
    assert DEVICE_COOKIE not in app.cookies  # a device that named itself keeps its name
