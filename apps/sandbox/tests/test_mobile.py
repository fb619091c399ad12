"""The BOSS's mobile business over HTTP: plans, add-ons, data buckets, bills and their refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import carrier_get, unique_key, unique_msisdn


def _month(offset: int = 0) -> str:
    month = timezone.localdate().replace(day=1)
    for _ in range(-offset):
        month = (month - timedelta(days=1)).replace(day=1)
    for _ in range(offset):
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return f"{month:%Y-%m}"


def _post(sandbox: SandboxServer, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    return httpx.post(
        f"{sandbox.url}/carrier/v1/{path}",
        json=body,
        headers={"X-Api-Key": sandbox.api_key, "Idempotency-Key": key},
        timeout=10.0,
    )


def _consume(sandbox: SandboxServer, msisdn: str, mb: int) -> dict[str, Any]:
    response = httpx.post(
        f"{sandbox.url}/sandbox/subscribers/{msisdn}/usage",
        json={"mb": mb},
        headers={"X-Api-Key": sandbox.api_key},
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture
def line(carrier_sandbox: SandboxServer) -> str:
    msisdn = unique_msisdn("139")
    carrier_sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000, plan="SENIOR-18")
    return msisdn


def test_a_line_with_a_plan_has_its_allowance_and_its_fee_on_the_bill(
    carrier_sandbox: SandboxServer, line: str
):
    usage = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/usage").json()
    bill = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/bills/{_month()}").json()

    assert [(b["kind"], b["name"], b["total_mb"], b["used_mb"]) for b in usage["buckets"]] == [
        ("plan", "老年关爱套餐 18元", 3072, 0)
    ]
    assert (usage["total_mb"], usage["used_mb"], usage["remaining_mb"]) == (3072, 0, 3072)
    assert [(i["kind"], i["amount_fen"]) for i in bill["items"]] == [("plan_fee", 1800)]
    assert (bill["charges_fen"], bill["topups_fen"], bill["balance_fen"]) == (1800, 0, 10_000)
    assert (bill["final"], bill["plan"]["code"]) == (False, "SENIOR-18")


def test_data_beyond_every_bucket_is_charged_at_the_overage_rate(
    carrier_sandbox: SandboxServer, line: str
):
    usage = _consume(carrier_sandbox, line, 3072 + 10)

    assert (usage["remaining_mb"], usage["overage_fen"]) == (0, 290)
    balance = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}").json()["balance_fen"]
    assert balance == 10_000 - 290


def test_a_plan_change_waits_for_next_month_and_only_one_may_wait(
    carrier_sandbox: SandboxServer, line: str
):
    key = unique_key()

    first = _post(carrier_sandbox, "plan-changes", {"msisdn": line, "plan_code": "5G-58"}, key)
    again = _post(carrier_sandbox, "plan-changes", {"msisdn": line, "plan_code": "5G-58"}, key)
    second = _post(
        carrier_sandbox, "plan-changes", {"msisdn": line, "plan_code": "5G-128"}, unique_key()
    )

    assert first.status_code == 201
    assert first.json()["effective_from"] == f"{_month(1)}-01"
    assert (again.status_code, again.json()) == (200, first.json())
    assert (second.status_code, second.json()["code"]) == (409, "PENDING_CHANGE_EXISTS")
    plan = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/plan").json()
    assert plan["plan"]["code"] == "SENIOR-18"
    assert plan["pending"]["plan"]["code"] == "5G-58"
    assert plan["pending"]["request_id"] == first.json()["request_id"]


@pytest.mark.parametrize(
    ("plan_code", "balance_fen", "status", "code"),
    [
        ("SENIOR-18", 100, 409, "SAME_PLAN"),
        ("4G-38-OLD", 100, 403, "PLAN_NOT_ALLOWED"),
        ("5G-58", -1, 402, "INSUFFICIENT_BALANCE"),
        ("NOPE", 100, 404, "OFFER_NOT_FOUND"),
    ],
)
def test_a_refused_plan_change_applies_nothing(
    carrier_sandbox: SandboxServer,
    line: str,
    plan_code: str,
    balance_fen: int,
    status: int,
    code: str,
):
    carrier_sandbox.put_subscriber(line, balance_fen=balance_fen)
    key = unique_key()

    response = _post(carrier_sandbox, "plan-changes", {"msisdn": line, "plan_code": plan_code}, key)

    assert (response.status_code, response.json()["code"]) == (status, code)
    plan = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/plan").json()
    assert (plan["plan"]["code"], plan["pending"]) == ("SENIOR-18", None)
    assert carrier_get(carrier_sandbox, f"/carrier/v1/provisioning/by-key/{key}").status_code == 404


def test_an_add_on_is_charged_at_once_and_adds_a_bucket(carrier_sandbox: SandboxServer, line: str):
    response = _post(
        carrier_sandbox, "addons", {"msisdn": line, "addon_code": "ADD-5GB"}, unique_key()
    )
    paid = _post(
        carrier_sandbox,
        "addons",
        {"msisdn": line, "addon_code": "ADD-10GB", "charge": "paid"},
        unique_key(),
    )

    assert (response.status_code, response.json()["fee_fen"]) == (201, 1000)
    assert (paid.status_code, paid.json()["fee_fen"]) == (201, 0)
    usage = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/usage").json()
    assert sorted((b["kind"], b["total_mb"]) for b in usage["buckets"]) == [
        ("addon", 5120),
        ("addon", 10240),
        ("plan", 3072),
    ]
    bill = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/bills/{_month()}").json()
    assert [(i["kind"], i["amount_fen"]) for i in bill["items"]] == [
        ("plan_fee", 1800),
        ("addon", 1000),
    ]
    assert bill["balance_fen"] == 9000


@pytest.mark.parametrize(
    ("addon_code", "balance_fen", "status", "code"),
    [
        ("ADD-5G-10GB", 10_000, 403, "ADDON_NOT_ALLOWED"),
        ("ADD-5GB", 999, 402, "INSUFFICIENT_BALANCE"),
    ],
)
def test_a_refused_add_on_applies_nothing(
    carrier_sandbox: SandboxServer,
    line: str,
    addon_code: str,
    balance_fen: int,
    status: int,
    code: str,
):
    carrier_sandbox.put_subscriber(line, balance_fen=balance_fen)

    response = _post(
        carrier_sandbox, "addons", {"msisdn": line, "addon_code": addon_code}, unique_key()
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    usage = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/usage").json()
    assert [b["kind"] for b in usage["buckets"]] == ["plan"]
    assert (
        carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}").json()["balance_fen"]
        == balance_fen
    )


def test_data_packs_add_buckets_and_top_ups_show_on_the_bill(
    carrier_sandbox: SandboxServer, line: str
):
    _post(
        carrier_sandbox,
        "data-packs",
        {"msisdn": line, "volume_mb": 1024, "validity_days": 7},
        unique_key(),
    )
    _post(carrier_sandbox, "recharges", {"msisdn": line, "amount_fen": 5000}, unique_key())

    usage = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/usage").json()
    bill = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/bills/{_month()}").json()

    assert sorted((b["kind"], b["total_mb"]) for b in usage["buckets"]) == [
        ("pack", 1024),
        ("plan", 3072),
    ]
    assert usage["total_mb"] == 4096
    assert (bill["charges_fen"], bill["topups_fen"], bill["balance_fen"]) == (1800, 5000, 15_000)


def test_the_plans_on_offer_follow_the_current_plan(carrier_sandbox: SandboxServer, line: str):
    offers = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/offers").json()

    assert offers["current_plan"] == "SENIOR-18"
    assert [p["code"] for p in offers["plans"]] == [
        "5G-58", "5G-88", "5G-128", "5G-198", "HUA-29", "FAMILY-169", "SENIOR-18", "CAMPUS-39",
    ]  # fmt: skip
    assert [a["code"] for a in offers["addons"]] == [
        "ADD-5GB", "ADD-10GB", "VRBT", "CALLER-ID", "VOICE-100", "ROAM-DAY", "CLOUD-200",
    ]  # fmt: skip


def test_a_seeded_line_has_last_months_bill(carrier_sandbox: SandboxServer):
    bill = carrier_get(
        carrier_sandbox, f"/carrier/v1/subscribers/+8613500135000/bills/{_month(-1)}"
    ).json()

    assert bill["final"] is True
    assert [(i["kind"], i["amount_fen"]) for i in bill["items"]] == [
        ("plan_fee", 1800),
        ("topup", 10000),
        ("usage", 2900),
    ]
    assert (bill["charges_fen"], bill["topups_fen"]) == (4700, 10000)
    assert [i["at"][:10] for i in bill["items"]] == [
        f"{_month(-1)}-01", f"{_month(-1)}-10", f"{_month(-1)}-28",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("month", "status"), [(_month(1), 404), (_month(-6), 404), ("2026-13", 400)]
)
def test_bills_outside_the_six_months_are_refused(
    carrier_sandbox: SandboxServer, line: str, month: str, status: int
):
    response = carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}/bills/{month}")

    assert response.status_code == status


def test_a_lost_answer_to_an_add_on_still_applied_it_once(
    carrier_sandbox: SandboxServer, line: str
):
    key = unique_key()
    body = {"msisdn": line, "addon_code": "ADD-5GB"}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{carrier_sandbox.url}/carrier/v1/addons",
            json=body,
            headers={
                "X-Api-Key": carrier_sandbox.api_key,
                "Idempotency-Key": key,
                "X-Sandbox-Fault": "lost",
            },
            timeout=0.5,
        )

    applied = carrier_get(carrier_sandbox, f"/carrier/v1/provisioning/by-key/{key}").json()
    repeat = _post(carrier_sandbox, "addons", body, key)

    assert (applied["kind"], applied["offer_code"], applied["fee_fen"]) == (
        "addon",
        "ADD-5GB",
        1000,
    )
    assert (repeat.status_code, repeat.json()) == (200, applied)
    assert (
        carrier_get(carrier_sandbox, f"/carrier/v1/subscribers/{line}").json()["balance_fen"]
        == 9000
    )
