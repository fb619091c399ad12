"""Subscriber look-ups (HLR/BOSS) and the sandbox's subscriber upsert for arranging tests."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import carrier_get, unique_msisdn


@pytest.mark.parametrize("written", ["+8613800138000", "%2B8613800138000", "13800138000"])
def test_an_own_subscriber_is_found_however_the_number_is_written(
    carrier_sandbox: SandboxServer, written: str
):
    response = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{written}")

    assert response.status_code == 200
    assert response.json() == {
        "msisdn": "+8613800138000",
        "operator": "CMCC",
        "province": "广东",
        "city": "广州",
        "status": "active",
        "balance_fen": 2_000_000,
        "is_own_network": True,
        "real_name_verified": True,
    }


@pytest.mark.parametrize(
    ("msisdn", "status"),
    [("+8613700137000", "suspended"), ("+8613600136000", "cancelled")],
)
def test_seeded_subscribers_that_cannot_receive(
    carrier_sandbox: SandboxServer, msisdn: str, status: str
):
    response = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}")

    assert (response.status_code, response.json()["status"]) == (200, status)


def test_an_unknown_china_mobile_number_is_not_a_subscriber(carrier_sandbox: SandboxServer):
    response = carrier_get(carrier_sandbox, "/carrier/v1/subscribers/+8613912345678")

    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "SUBSCRIBER_NOT_FOUND",
        "message": "+8613912345678 is not a subscriber.",
    }


@pytest.mark.parametrize(
    ("msisdn", "operator"),
    [("+8613012345678", "CUCC"), ("18612345678", "CUCC"), ("+8618912345678", "CTCC")],
)
def test_other_operators_numbers_name_only_the_operator(
    carrier_sandbox: SandboxServer, msisdn: str, operator: str
):
    response = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}")

    assert response.status_code == 200
    assert response.json() == {
        "msisdn": "+86" + msisdn[-11:],
        "operator": operator,
        "is_own_network": False,
        "status": "unknown",
        "province": None,
        "city": None,
        "balance_fen": None,
        "real_name_verified": None,
    }


@pytest.mark.parametrize("msisdn", ["+8612012345678", "+8614012345678", "12345", "+1415555"])
def test_numbers_in_no_operators_segment_are_invalid(carrier_sandbox: SandboxServer, msisdn: str):
    response = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}")

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"


def test_tests_can_create_and_change_a_subscriber(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn("150")
    url = f"{carrier_sandbox.url}/sandbox/subscribers/{msisdn[3:]}"
    headers = {"X-Api-Key": carrier_sandbox.api_key}

    created = httpx.put(url, json={"balance_fen": 100, "city": "深圳"}, headers=headers)
    changed = httpx.put(url, json={"status": "suspended", "province": "广东"}, headers=headers)

    assert (created.status_code, changed.status_code) == (201, 200)
    expected = {
        "msisdn": msisdn,
        "operator": "CMCC",
        "province": "广东",
        "city": "深圳",
        "status": "suspended",
        "balance_fen": 100,
        "is_own_network": True,
        "real_name_verified": True,
    }
    assert changed.json() == expected
    assert carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}").json() == expected


@pytest.mark.parametrize(
    ("prefix", "body", "lookup_after"),
    [
        ("135", {"status": "frozen"}, (404, 404)),
        ("135", {"balance_fen": "100"}, (404, 404)),
        ("135", {"balance_fen": True}, (404, 404)),
        ("135", {"city": ""}, (404, 404)),
        ("135", {"nickname": "x"}, (404, 404)),
        ("130", {"status": "active"}, (200, "unknown")),
    ],
)
def test_bad_subscriber_changes_are_refused_and_create_nothing(
    carrier_sandbox: SandboxServer, prefix: str, body: dict, lookup_after: tuple
):
    msisdn = unique_msisdn(prefix)

    response = httpx.put(
        f"{carrier_sandbox.url}/sandbox/subscribers/{msisdn[3:]}",
        json=body,
        headers={"X-Api-Key": carrier_sandbox.api_key},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_ARGUMENT"
    lookup = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}")
    assert (lookup.status_code, lookup.json()["status"]) == lookup_after


def test_changing_a_subscriber_needs_the_api_key(carrier_sandbox: SandboxServer):
    msisdn = unique_msisdn()

    response = httpx.put(
        f"{carrier_sandbox.url}/sandbox/subscribers/{msisdn}", json={"status": "active"}
    )

    assert response.status_code == 401
    assert carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{msisdn}").status_code == 404
