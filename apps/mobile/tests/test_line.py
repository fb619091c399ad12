"""A subscriber's own line over the API and pages, against the carrier sandbox: exact values,
plan changes and add-ons applied once under lost answers and timeouts, clear refusals."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.carrier.errors import CarrierUnavailable
from apps.mobile import services
from apps.mobile.errors import BillNotAvailable, RequestInProgress, SamePlan
from apps.mobile.models import LineRequest
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db
MONTH = f"{timezone.localdate():%Y-%m}"


def _next_month_first():
    return (timezone.localdate().replace(day=28) + timedelta(days=4)).replace(day=1)


@pytest.fixture
def number() -> str:
    return unique_msisdn("187")


@pytest.fixture
def line(carrier_sandbox, number):
    """A line on the 58 yuan 5G plan, 30 yuan of balance, 1000 MB used."""
    carrier_sandbox.put_subscriber(number, status="active", balance_fen=3000, plan="5G-58")
    response = httpx.post(
        f"{carrier_sandbox.url}/sandbox/subscribers/{quote(number)}/usage",
        json={"mb": 1000}, headers={"X-Api-Key": carrier_sandbox.api_key},
    )  # fmt: skip
    response.raise_for_status()
    return carrier_sandbox


@pytest.fixture
def user(number):
    return User.objects.create_user(number[3:])


@pytest.fixture
def api(client, user):
    client.force_login(user)
    return client


def _carrier(sandbox, number: str, tail: str = "") -> dict:
    url = f"{sandbox.url}/carrier/v1/subscribers/{quote(number)}{tail}"
    return httpx.get(url, headers={"X-Api-Key": sandbox.api_key}).json()


def _post(api, body: dict, key: str = "k-1"):
    return api.post(
        "/api/v1/me/line/requests/", body, content_type="application/json",
        headers={"Idempotency-Key": key},
    )  # fmt: skip


# --- Reads ----------------------------------------------------------------------------------------


def test_my_line_shows_balance_plan_and_data_left(line, api, number):
    body = api.get("/api/v1/me/line/").json()

    assert (body["msisdn"], body["status"], body["balance_fen"]) == (number, "active", 3000)
    assert (body["plan"]["code"], body["plan"]["fee_fen"]) == ("5G-58", 5800)
    assert body["plan_since"] == f"{MONTH}-01"
    assert (body["pending"], body["addons"]) == (None, [])
    assert (body["data_total_mb"], body["data_remaining_mb"]) == (30720, 29720)


def test_usage_bill_and_offers(line, api):
    usage = api.get("/api/v1/me/line/usage/").json()
    bill = api.get(f"/api/v1/me/line/bills/{MONTH}/").json()
    offers = api.get("/api/v1/me/line/offers/").json()

    assert [
        (b["kind"], b["total_mb"], b["used_mb"], b["remaining_mb"]) for b in usage["buckets"]
    ] == [("plan", 30720, 1000, 29720)]
    assert [(i["kind"], i["description"], i["amount_fen"]) for i in bill["items"]] == [
        ("plan_fee", "5G智享套餐 58元档", 5800)
    ]
    assert (bill["final"], bill["charges_fen"], bill["topups_fen"], bill["balance_fen"]) == (
        False, 5800, 0, 3000,
    )  # fmt: skip
    assert offers["current_plan"] == "5G-58"
    assert "ADD-5G-10GB" in [a["code"] for a in offers["addons"]]


def test_a_bill_outside_the_six_months_is_refused(line, api):
    response = api.get("/api/v1/me/line/bills/2020-01/")

    assert (response.status_code, response.json()["code"]) == (404, "BILL_NOT_AVAILABLE")


def test_another_operators_number_cannot_be_managed(carrier_sandbox, client):
    client.force_login(User.objects.create_user("13012345678"))

    response = client.get("/api/v1/me/line/")

    assert (response.status_code, response.json()["code"]) == (409, "LINE_NOT_ON_NETWORK")


def test_the_line_api_needs_a_signed_in_user(client):
    assert client.get("/api/v1/me/line/").status_code in (401, 403)


# --- Requests -------------------------------------------------------------------------------------


def test_a_plan_change_is_applied_once_for_next_month(
    line, api, number, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api, {"kind": "plan_change", "offer_code": "5G-128"})
    with django_capture_on_commit_callbacks(execute=True):
        repeat = _post(api, {"kind": "plan_change", "offer_code": "5G-128"})

    assert response.status_code == 202
    made = api.get(f"/api/v1/me/line/requests/{response.json()['id']}/").json()
    assert (made["status"], made["effective_from"], made["charged_fen"]) == (
        "applied", str(_next_month_first()), 0,
    )  # fmt: skip
    assert repeat.json()["id"] == made["id"]
    assert LineRequest.objects.count() == 1
    pending = _carrier(line, number, "/plan")["pending"]
    assert (pending["plan"]["code"], pending["effective_from"]) == (
        "5G-128",
        str(_next_month_first()),
    )
    assert _carrier(line, number)["balance_fen"] == 3000


def test_the_same_key_for_another_choice_is_a_conflict(
    line, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(api, {"kind": "addon", "offer_code": "VRBT"})

    response = _post(api, {"kind": "addon", "offer_code": "CALLER-ID"})

    assert (response.status_code, response.json()["code"]) == (409, "IDEMPOTENCY_CONFLICT")
    assert LineRequest.objects.count() == 1


def test_an_add_on_is_charged_to_the_balance_once(
    line, api, number, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api, {"kind": "addon", "offer_code": "ADD-5GB"})

    made = api.get(f"/api/v1/me/line/requests/{response.json()['id']}/").json()
    assert (made["status"], made["charged_fen"], made["fee_fen"]) == ("applied", 1000, 1000)
    assert _carrier(line, number)["balance_fen"] == 2000
    assert sorted(b["kind"] for b in _carrier(line, number, "/usage")["buckets"]) == [
        "addon",
        "plan",
    ]
    assert [m["text"] for m in line.messages(number)] == [
        _("[CarrierHub] %(addon)s has been added to your number; %(fee)s was charged.")
        % {"addon": "5GB流量叠加包", "fee": "¥10.00"}
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "plan_change", "offer_code": "5G-58"}, 409, "SAME_PLAN"),
        ({"kind": "plan_change", "offer_code": "4G-38-OLD"}, 422, "PLAN_NOT_ALLOWED"),
        ({"kind": "addon", "offer_code": "ROAM-DAY"}, 402, "INSUFFICIENT_BALANCE"),
        ({"kind": "addon", "offer_code": "NOPE"}, 422, "ADDON_NOT_ALLOWED"),
        ({"kind": "upgrade", "offer_code": "5G-88"}, 400, "INVALID_ARGUMENT"),
    ],
)
def test_a_refused_choice_records_nothing_and_changes_nothing(
    line, api, number, body, status, code
):
    line.put_subscriber(number, balance_fen=2000)

    response = _post(api, body)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not LineRequest.objects.exists()
    plan = _carrier(line, number, "/plan")
    assert (plan["plan"]["code"], plan["pending"], plan["addons"]) == ("5G-58", None, [])
    assert _carrier(line, number)["balance_fen"] == 2000


def test_a_second_change_while_one_waits_is_refused(line, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(api, {"kind": "plan_change", "offer_code": "5G-88"})

    response = _post(api, {"kind": "plan_change", "offer_code": "5G-128"}, key="k-2")

    assert (response.status_code, response.json()["code"]) == (409, "PENDING_CHANGE_EXISTS")
    assert LineRequest.objects.count() == 1


def test_one_request_in_flight_per_subscriber(line, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.line_request_submit(
            user_id=user.pk, kind="addon", offer_code="VRBT", request_key="a"
        )
        with pytest.raises(RequestInProgress):
            services.line_request_submit(
                user_id=user.pk, kind="addon", offer_code="CALLER-ID", request_key="b"
            )

    assert list(LineRequest.objects.values_list("offer_code", "status")) == [("VRBT", "submitted")]


def _submitted(user, kind: str, code: str, django_capture_on_commit_callbacks) -> LineRequest:
    """A recorded request whose task has not run yet."""
    with django_capture_on_commit_callbacks(execute=False):
        made = services.line_request_submit(
            user_id=user.pk, kind=kind, offer_code=code, request_key="r"
        )
    return LineRequest.objects.get(pk=made.id)


def test_an_add_on_under_a_lost_answer_is_charged_once(
    line, user, number, settings, django_capture_on_commit_callbacks
):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    made = _submitted(user, "addon", "ADD-5GB", django_capture_on_commit_callbacks)
    line.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        services.line_request_apply(request_id=made.pk)  # applied; answer and by-key lost
    line.set_knobs(lost_response_rate=0.0)
    assert LineRequest.objects.get(pk=made.pk).status == "submitted"

    LineRequest.objects.filter(pk=made.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert services.line_requests_retry_stuck() == 1

    made.refresh_from_db()
    assert (made.status, made.attempts, made.charged_fen) == ("applied", 2, 1000)
    assert _carrier(line, number)["balance_fen"] == 2000
    assert [b["kind"] for b in _carrier(line, number, "/usage")["buckets"]].count("addon") == 1


def test_a_plan_change_under_a_timeout_is_applied_once(
    line, user, number, settings, django_capture_on_commit_callbacks
):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    made = _submitted(user, "plan_change", "CAMPUS-39", django_capture_on_commit_callbacks)
    line.set_knobs(timeout_rate=1.0, hang_ms=1000)
    with pytest.raises(CarrierUnavailable):
        services.line_request_apply(request_id=made.pk)
    line.set_knobs(timeout_rate=0.0)
    assert _carrier(line, number, "/plan")["pending"] is None

    assert services.line_request_apply(request_id=made.pk) == "applied"
    assert services.line_request_apply(request_id=made.pk) == "applied"

    assert _carrier(line, number, "/plan")["pending"]["plan"]["code"] == "CAMPUS-39"
    assert LineRequest.objects.get(pk=made.pk).effective_from == _next_month_first()


def test_a_refusal_at_the_carrier_after_recording_is_shown_and_applies_nothing(
    line, user, number, django_capture_on_commit_callbacks
):
    made = _submitted(user, "addon", "ADD-10GB", django_capture_on_commit_callbacks)
    line.put_subscriber(number, balance_fen=500)  # spent elsewhere meanwhile

    assert services.line_request_apply(request_id=made.pk) == "refused"

    made.refresh_from_db()
    assert (made.status, made.error_code, made.charged_fen) == (
        "refused",
        "INSUFFICIENT_BALANCE",
        0,
    )
    assert _carrier(line, number)["balance_fen"] == 500
    assert [b["kind"] for b in _carrier(line, number, "/usage")["buckets"]] == ["plan"]


def test_giving_up_asks_by_key_first(line, user, number, django_capture_on_commit_callbacks):
    made = _submitted(user, "addon", "VRBT", django_capture_on_commit_callbacks)

    assert services.line_request_give_up(request_id=made.pk) == "failed"
    assert LineRequest.objects.get(pk=made.pk).error_code == "CARRIER_UNAVAILABLE"
    other = LineRequest.objects.create(
        user_id=user.pk, msisdn=number, kind="addon", offer_code="VRBT", offer_name="视频彩铃包月",
        fee_fen=500, request_key="s",
    )  # fmt: skip
    httpx.post(
        f"{line.url}/carrier/v1/addons", json={"msisdn": number, "addon_code": "VRBT"},
        headers={"X-Api-Key": line.api_key, "Idempotency-Key": services.carrier_key(other.pk)},
    ).raise_for_status()  # fmt: skip

    assert services.line_request_give_up(request_id=other.pk) == "applied"
    assert LineRequest.objects.get(pk=other.pk).charged_fen == 500


# --- Pages ----------------------------------------------------------------------------------------


def test_the_pages_show_the_line(line, api, number):
    overview = api.get("/my/line/").content.decode()
    usage = api.get("/my/line/usage/").content.decode()
    bills = api.get(f"/my/line/bills/?month={MONTH}").content.decode()
    offers = api.get("/my/line/offers/").content.decode()

    assert number in overview and "¥30.00" in overview and "5G智享套餐 58元档" in overview
    assert '<progress max="30720" value="1000"' in usage
    assert "¥58.00" in bills and f'<option value="{MONTH}" selected>' in bills
    assert "/my/line/offers/addon/ADD-5G-10GB/" in offers
    assert "/my/line/offers/plan/5G-58/" not in offers  # the current plan is not offered


def test_confirming_a_change_on_the_page(line, api, number, django_capture_on_commit_callbacks):
    page = api.get("/my/line/offers/plan/5G-88/")
    assert page.status_code == 200
    assert f"{_next_month_first():%Y-%m-%d}" in page.content.decode()
    key = page.context["form"].initial["request_key"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/my/line/offers/plan/5G-88/", {"request_key": key})

    made = LineRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/my/line/requests/{made.pk}/"
    assert made.status == "applied"
    page = api.get(f"/my/line/requests/{made.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.context["made"].status == "applied"
    history = page.content.decode().split('<ol class="timeline">')[1].split("</ol>")[0]
    assert "applied" not in history and "submitted" not in history  # states in words
    states = [state for _at, state in page.context["made"].timeline]
    assert states and "applied" not in states and states[-1] in history
    assert _carrier(line, number, "/plan")["pending"]["plan"]["code"] == "5G-88"


def test_a_refused_confirmation_says_why_on_the_page(line, api):
    response = api.post("/my/line/offers/plan/5G-58/", {"request_key": "x"})

    assert response.status_code == 409
    assert response.context["form"].non_field_errors() == [str(SamePlan.default_message)]
    assert not LineRequest.objects.exists()


def test_someone_elses_request_is_not_found(line, api, user):
    other = LineRequest.objects.create(
        user_id=user.pk + 1, msisdn="+8613800138000", kind="addon", offer_code="VRBT",
        offer_name="视频彩铃包月", fee_fen=500, request_key="z", status="applied",
    )  # fmt: skip

    assert api.get(f"/my/line/requests/{other.pk}/").status_code == 404
    assert api.get(f"/api/v1/me/line/requests/{other.pk}/").status_code == 404


def test_a_month_outside_the_six_is_refused_on_the_page(line, api):
    response = api.get("/my/line/bills/?month=2020-01")

    assert response.status_code == 404
    assert response.context["error"] == str(BillNotAvailable.default_message)
    assert "bill" not in response.context


def test_the_page_says_so_when_the_carrier_is_down(line, api, settings):
    settings.CARRIER_MAX_ATTEMPTS = 1
    line.set_knobs(error_rate=1.0)

    response = api.get("/my/line/")

    assert response.status_code == 503
    assert "mobile/unavailable.html" in [t.name for t in response.templates]
