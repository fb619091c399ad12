"""Partner callbacks never reach internal addresses: checked at registration and, after DNS
resolution, again at every delivery, which connects to the address it checked."""

import socket

import pytest

from apps.gateway import callbacks
from apps.gateway.models import CallbackDelivery
from apps.gateway.portal.errors import InvalidCallbackUrl
from apps.gateway.portal.validators import normalize_callback_url
from apps.gateway.tests.support import gateway_app_create
from tests.fixtures.sandbox_support import callback_receiver

INTERNAL = [
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/cb",
    "https://172.16.3.4/cb",
    "https://192.168.1.1/cb",
    "https://100.64.0.1/cb",
    "http://127.0.0.1:6379/",
    "http://localhost:5432/",
    "https://0.0.0.0/cb",
    "https://224.0.0.1/cb",
    "https://240.0.0.1/cb",
    "http://[::1]:8000/cb",
    "https://[fe80::1]/cb",
    "https://[fc00::1]/cb",
    "https://[ff02::1]/cb",
    "https://[::ffff:127.0.0.1]/cb",
    "https://[::ffff:10.0.0.1]/cb",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_at_registration(url, settings):
    settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK = False
    with pytest.raises(InvalidCallbackUrl):
        normalize_callback_url(url)


def test_a_name_resolving_to_an_internal_address_is_refused(settings, monkeypatch):
    settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK = False
    _resolve(monkeypatch, {"partner.example.com": "10.1.2.3"})
    with pytest.raises(InvalidCallbackUrl):
        normalize_callback_url("https://partner.example.com/cb")


def test_the_sandbox_setting_allows_loopback_only(settings):
    settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK = True
    assert normalize_callback_url("http://127.0.0.1:9000/cb") == "http://127.0.0.1:9000/cb"
    with pytest.raises(InvalidCallbackUrl):
        normalize_callback_url("https://10.0.0.1/cb")


def _resolve(monkeypatch, names: dict[str, str]) -> None:
    """DNS is the machine's edge: answer these names, leave the rest to the resolver."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in names:
            return real(names[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def _delivery(url: str) -> CallbackDelivery:
    app = gateway_app_create(capabilities=["sms"])
    event_id = callbacks.callback_enqueue(
        app_id=app.app_id, environment="sandbox", client_id=app.client_id, url=url,
        event_type="t", subject="s", data={"x": 1},
    )  # fmt: skip
    assert event_id is not None
    return CallbackDelivery.objects.get(pk=event_id)


@pytest.mark.django_db
def test_a_delivery_to_loopback_is_not_attempted(settings, monkeypatch):
    settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK = False
    with callback_receiver() as receiver:
        _resolve(monkeypatch, {"rebind.example.com": "127.0.0.1"})
        port = receiver.url.split(":")[2].split("/")[0]
        first = _delivery(receiver.url)
        second = _delivery(f"http://rebind.example.com:{port}/cb")
        for delivery in (first, second):
            callbacks.callback_deliver(delivery_id=delivery.pk)
        assert receiver.reports == []
    for delivery in (first, second):
        delivery.refresh_from_db()
        assert (delivery.status, delivery.delivered_at) == ("pending", None)
        assert "not allowed" in delivery.last_error


@pytest.mark.django_db
def test_a_delivery_connects_to_the_checked_address(settings, monkeypatch):
    settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK = True
    with callback_receiver() as receiver:
        _resolve(monkeypatch, {"partner.example.com": "127.0.0.1"})
        port = receiver.url.split(":")[2].split("/")[0]
        delivery = _delivery(f"http://partner.example.com:{port}/cb")
        assert callbacks.callback_deliver(delivery_id=delivery.pk) == "delivered"
        [report] = receiver.wait_for(1, timeout=5)
    assert report.headers["host"] == f"partner.example.com:{port}"
