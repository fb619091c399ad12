"""The carrier adapter over real HTTP to the sandbox: lookups, SMS, retries and faults."""

import time
import uuid

import pytest

from apps.carrier.client import CarrierClient
from apps.carrier.errors import CarrierRejected, CarrierUnavailable, SubscriberNotFound


def _client(url: str, *, timeout: float = 2.0, attempts: int = 3) -> CarrierClient:
    return CarrierClient(
        base_url=url, api_key="sandbox-key", timeout=timeout, max_attempts=attempts
    )


def test_subscriber_lookup_own_network(carrier_sandbox):
    info = _client(carrier_sandbox.url).lookup_subscriber(msisdn="+8613800138000")
    assert info.operator == "CMCC"
    assert info.is_own_network is True
    assert info.status == "active"
    assert info.province == "广东"
    assert info.balance_fen == 2_000_000


def test_subscriber_lookup_other_operator_and_unknown(carrier_sandbox):
    client = _client(carrier_sandbox.url)
    unicom = client.lookup_subscriber(msisdn="+8613012345678")
    assert (unicom.operator, unicom.is_own_network, unicom.balance_fen) == ("CUCC", False, None)
    with pytest.raises(SubscriberNotFound):
        client.lookup_subscriber(msisdn="+8613512345678")


def test_wrong_api_key_is_rejected(carrier_sandbox):
    client = CarrierClient(base_url=carrier_sandbox.url, api_key="wrong", timeout=2, max_attempts=1)
    with pytest.raises(CarrierRejected) as info:
        client.lookup_subscriber(msisdn="+8613800138000")
    assert info.value.carrier_code == "UNAUTHENTICATED"


def test_send_sms_retry_after_lost_response_sends_once(carrier_sandbox):
    """The first answer is lost; the retry with the same key gets the first result."""
    carrier_sandbox.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    client = _client(carrier_sandbox.url, timeout=0.5, attempts=2)
    key = str(uuid.uuid4())
    to = "+8613800138123"  # a number no other test writes to
    with pytest.raises(CarrierUnavailable):
        client.send_sms(to=to, text="hello", idempotency_key=key, reference=key, callback_url="")
    carrier_sandbox.set_knobs(lost_response_rate=0.0)
    accepted = _client(carrier_sandbox.url).send_sms(
        to=to, text="hello", idempotency_key=key, reference=key, callback_url=""
    )
    state = _client(carrier_sandbox.url).sms_by_key(idempotency_key=key)
    assert state is not None and state.message_id == accepted.message_id
    assert [m["message_id"] for m in carrier_sandbox.messages(to)] == [accepted.message_id]


def test_transient_errors_are_retried_then_reported(carrier_sandbox):
    carrier_sandbox.set_knobs(error_rate=1.0)
    client = _client(carrier_sandbox.url, attempts=3)
    started = time.monotonic()
    with pytest.raises(CarrierUnavailable) as info:
        client.lookup_subscriber(msisdn="+8613800138000")
    assert info.value.details["attempts"] == 3
    assert info.value.details["last_error"] == "HTTP 503"
    assert time.monotonic() - started < 5


def test_unreachable_carrier_is_unavailable():
    # Nothing listens on the discard port of the loopback.
    client = _client("http://127.0.0.1:9", timeout=0.5, attempts=2)
    with pytest.raises(CarrierUnavailable):
        client.ping()
