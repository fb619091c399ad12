"""The carrier's real-name check and SIM activation: the contract, once per key, the per-ID limit."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import unique_id_number, unique_key, unique_msisdn


def _post(sandbox: SandboxServer, path: str, body: dict, key: str | None = None) -> httpx.Response:
    headers = {"X-Api-Key": sandbox.api_key} | ({"Idempotency-Key": key} if key else {})
    return httpx.post(f"{sandbox.url}{path}", json=body, headers=headers, timeout=10)


def _activate(
    sandbox: SandboxServer, msisdn: str, id_number: str, name: str = "张三", key: str | None = None
):
    body = {"msisdn": msisdn, "name": name, "id_number": id_number, "reference": "t"}
    return _post(sandbox, "/carrier/v1/sim-activations", body, key or unique_key())


def test_the_register_checks_a_recorded_name_and_takes_unknown_ids_as_genuine(carrier_sandbox):
    id_number = unique_id_number()
    check = {"name": "张三", "id_number": id_number}
    assert _post(carrier_sandbox, "/carrier/v1/identity/verify", check).json() == {
        "matched": True, "numbers_registered": 0, "limit": 5,
    }  # fmt: skip
    carrier_sandbox.put_identity(id_number, "李四", other_numbers=2)
    assert _post(carrier_sandbox, "/carrier/v1/identity/verify", check).json() == {
        "matched": False, "numbers_registered": 2, "limit": 5,
    }  # fmt: skip
    bad = _post(
        carrier_sandbox,
        "/carrier/v1/identity/verify",
        {"name": "张三", "id_number": id_number[:17] + "Y"},
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_ARGUMENT")


def test_an_activation_applies_once_per_key_and_is_found_by_key(carrier_sandbox):
    msisdn, id_number, key = unique_msisdn("138"), unique_id_number(), unique_key()
    first = _activate(carrier_sandbox, msisdn, id_number, key=key)
    again = _activate(carrier_sandbox, msisdn, id_number, key=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    by_key = httpx.get(
        f"{carrier_sandbox.url}/carrier/v1/sim-activations/by-key/{key}",
        headers={"X-Api-Key": carrier_sandbox.api_key},
    )
    assert by_key.json()["request_id"] == first.json()["request_id"]
    other_body = _activate(carrier_sandbox, msisdn, id_number, name="张四", key=key)
    assert (other_body.status_code, other_body.json()["code"]) == (409, "IDEMPOTENCY_CONFLICT")
    taken = _activate(carrier_sandbox, msisdn, unique_id_number())
    assert (taken.status_code, taken.json()["code"]) == (409, "NUMBER_IN_USE")
    unknown = httpx.get(
        f"{carrier_sandbox.url}/carrier/v1/sim-activations/by-key/{unique_key()}",
        headers={"X-Api-Key": carrier_sandbox.api_key},
    )
    assert unknown.status_code == 404


def test_an_id_gets_at_most_five_numbers_across_carriers(carrier_sandbox):
    id_number = unique_id_number()
    carrier_sandbox.put_identity(id_number, "张三", other_numbers=3)
    assert [_activate(carrier_sandbox, unique_msisdn("138"), id_number).status_code for _ in range(3)] == [
        201, 201, 422,
    ]  # fmt: skip
    refused = _activate(carrier_sandbox, unique_msisdn("138"), id_number)
    assert refused.json()["code"] == "ID_NUMBER_LIMIT_REACHED"


@pytest.mark.parametrize(
    "body",
    [
        {"msisdn": "+8613000000000", "name": "张三"},  # another operator's segment
        {"name": "张三"},
        {"msisdn": "+8613800000000", "name": "", "extra": 1},
    ],
)
def test_bad_activations_are_refused(carrier_sandbox, body):
    response = _post(
        carrier_sandbox,
        "/carrier/v1/sim-activations",
        {**body, "id_number": unique_id_number()},
        unique_key(),
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_ARGUMENT")
