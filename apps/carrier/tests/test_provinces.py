"""Provisioning goes to the number's home province, and a province that is down is isolated."""

from __future__ import annotations

import itertools
import random
import threading
import time

import httpx
import pytest

from apps.carrier import breaker
from apps.carrier.errors import CarrierUnavailable, ProvinceUnavailable
from apps.carrier.provinces import _segments, province_of, provinces
from apps.carrier.services import provision_once
from apps.core.redis import get_redis
from tests.fixtures.sandbox_support import unique_key

CMCC = "134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 182 183 184 187 188 195 197 198"


def test_every_china_mobile_number_has_one_of_31_home_provinces():
    firsts, lasts, codes = _segments()
    assert len(provinces()) == 31 and set(codes) == set(provinces())
    for prefix in CMCC.split():  # each prefix covered from 0000 to 9999 without a gap
        runs = [(a, z) for a, z in zip(firsts, lasts, strict=True) if str(a).startswith(prefix)]
        assert runs[0][0] == int(prefix + "0000") and runs[-1][1] == int(prefix + "9999")
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(runs))
    assert province_of("+8613400000000").code == "bj"
    assert province_of("13400000000").code == "bj"
    assert province_of("+8613000000000") is None  # China Unicom: not routed to our BOSS
    assert province_of("+86134") is None


def _number_in(code: str) -> str:
    firsts, _, codes = _segments()
    first = next(f for f, c in zip(firsts, codes, strict=True) if c == code)
    return f"+86{first}{random.randrange(10**4):04d}"


def _applied(sandbox, key: str) -> bool:
    response = httpx.get(f"{sandbox.url}/carrier/v1/provisioning/by-key/{key}",
                         headers={"X-Api-Key": sandbox.api_key}, timeout=5)  # fmt: skip
    assert response.status_code in (200, 404)
    return response.status_code == 200


@pytest.fixture
def lines(carrier_sandbox, settings):
    """A Guangdong and a Beijing line with no balance, and a quick adapter (one try, 1 s)."""
    settings.CARRIER_TIMEOUT_SECONDS = 1.0
    settings.CARRIER_MAX_ATTEMPTS = 1
    settings.CARRIER_BREAKER_FAILURES = 2
    settings.CARRIER_BREAKER_COOLDOWN_SECONDS = 600  # only breaker_half_open ends it here
    gd, bj = _number_in("gd"), _number_in("bj")
    for msisdn in (gd, bj):
        carrier_sandbox.put_subscriber(msisdn, balance_fen=0)
    return gd, bj


def _top_up(msisdn: str, key: str) -> str:
    body = {"msisdn": msisdn, "amount_fen": 1000, "reference": key[:32]}
    return provision_once(kind="recharges", body=body, idempotency_key=key).request_id


def test_a_failing_province_opens_its_breaker_and_the_others_keep_delivering(
    carrier_sandbox, lines
):
    gd, bj = lines
    # Given Guangdong's BOSS applies requests but its answers are lost
    carrier_sandbox.set_province_knobs("gd", lost_response_rate=1.0, hang_ms=3000)
    first_key = unique_key()

    # When a Guangdong top-up is sent (its answer and the by-key check both time out) while a
    # Beijing top-up runs beside it
    outcome: list[BaseException] = []
    slow = threading.Thread(target=lambda: outcome.extend(_catch(lambda: _top_up(gd, first_key))))
    slow.start()
    _top_up(bj, unique_key())
    beijing_done_first = slow.is_alive()  # Guangdong takes two 1 s timeouts
    slow.join()

    # Then Beijing was not held up, and two failures in a row opened Guangdong's breaker
    assert beijing_done_first
    assert isinstance(outcome[0], CarrierUnavailable)
    assert breaker.breaker_state(province="gd") == "open"
    assert breaker.breaker_state(province="bj") == "closed"

    # And while open, a Guangdong top-up is refused at once and nothing is sent
    second_key = unique_key()
    started = time.monotonic()
    with pytest.raises(ProvinceUnavailable) as refused:
        _top_up(gd, second_key)
    assert time.monotonic() - started < 0.2
    assert refused.value.details == {"province": "gd", "reason": "breaker_open"}
    assert not _applied(carrier_sandbox, second_key)

    # When the cool-down ends while Guangdong still fails, its one probe fails: open again
    assert breaker.breaker_half_open(province="gd")
    assert breaker.breaker_state(province="gd") == "half_open"
    with pytest.raises(CarrierUnavailable):
        _top_up(gd, first_key)
    assert breaker.breaker_state(province="gd") == "open"

    # When Guangdong recovers, the next probe closes the breaker, and the first top-up (applied
    # by the BOSS although its answers were lost, then asked again twice) counts once
    carrier_sandbox.set_province_knobs("gd")
    breaker.breaker_half_open(province="gd")
    request_id = _top_up(gd, first_key)
    assert breaker.breaker_state(province="gd") == "closed"
    assert _top_up(gd, first_key) == request_id
    assert carrier_sandbox.put_subscriber(gd)["balance_fen"] == 1000


def test_a_slow_province_gets_its_cap_of_calls_and_no_more(carrier_sandbox, lines, settings):
    gd, bj = lines
    # Given Guangdong answers after 2 s and takes one call at a time
    settings.CARRIER_TIMEOUT_SECONDS = 5.0
    settings.CARRIER_PROVINCE_MAX_IN_FLIGHT = 1
    carrier_sandbox.set_province_knobs("gd", latency_ms=2000)
    slow_key, refused_key = unique_key(), unique_key()
    slow = threading.Thread(target=lambda: _top_up(gd, slow_key))
    slow.start()
    deadline = time.monotonic() + 5
    while not get_redis().zcard("carrier:boss:gd:in_flight") and time.monotonic() < deadline:
        time.sleep(0.01)  # until the first call holds Guangdong's one slot

    # When a second Guangdong top-up and a Beijing one come meanwhile
    with pytest.raises(ProvinceUnavailable) as refused:
        _top_up(gd, refused_key)
    _top_up(bj, unique_key())
    beijing_done_first = slow.is_alive()
    slow.join()

    # Then the second was refused unsent, Beijing went straight through, the first landed once,
    # and being busy is not a failure: the breaker stays closed
    assert refused.value.details == {"province": "gd", "reason": "busy"}
    assert beijing_done_first
    assert not _applied(carrier_sandbox, refused_key)
    assert _applied(carrier_sandbox, slow_key)
    assert carrier_sandbox.put_subscriber(gd)["balance_fen"] == 1000
    assert breaker.breaker_state(province="gd") == "closed"


def test_the_sandbox_plays_31_provincial_boss_endpoints(carrier_sandbox):
    for code in provinces():
        assert carrier_sandbox.set_province_knobs(code, latency_ms=1)["latency_ms"] == 1
    assert carrier_sandbox.reset_knobs()
    response = httpx.put(f"{carrier_sandbox.url}/sandbox/provinces/zz/knobs", json={},
                         headers={"X-Api-Key": carrier_sandbox.api_key}, timeout=5)  # fmt: skip
    assert response.status_code == 404
    bad = httpx.put(f"{carrier_sandbox.url}/sandbox/provinces/gd/knobs", json={"error_rate": 2},
                    headers={"X-Api-Key": carrier_sandbox.api_key}, timeout=5)  # fmt: skip
    assert bad.status_code == 400
    assert carrier_sandbox.set_province_knobs("gd")["error_rate"] == 0.0


def _catch(call) -> list[BaseException]:
    try:
        call()
    except BaseException as exc:  # handed to the test thread to assert on
        return [exc]
    return []
