"""Both servers answer /favicon.ico (browsers ask for it on every first visit)."""

import httpx


def test_the_mall_serves_a_favicon(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Content-Type"]) == (200, "image/svg+xml")
    assert b"<svg" in response.content


def test_the_sandbox_serves_a_favicon(carrier_sandbox):
    response = httpx.get(f"{carrier_sandbox.url}/favicon.ico")
    assert (response.status_code, response.headers["content-type"]) == (200, "image/svg+xml")
