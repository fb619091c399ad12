"""What buyers see and do: the tracking timeline on the page and API, returns; only their own."""

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.tests.factories import small_catalog
from apps.core.tests.outbox_support import outbox_handled
from apps.fulfilment.models import ReturnRequest
from apps.fulfilment.shipping import services
from apps.fulfilment.shipping.services import CourierUpdate
from apps.orders.tests.support import paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


@pytest.fixture
def delivered(buyer):
    order = paid_order(buyer, [small_catalog()["iphone"]])
    line = order.lines.get()
    with outbox_handled():
        services.shipment_create(order_number=order.number, line_ids=[line.pk], courier="yto",
                                 tracking_number="YT700000001", actor_id=None)  # fmt: skip
        for n, status in enumerate(["in_transit", "delivered"], start=1):
            services.tracking_update_receive(courier="yto", update=CourierUpdate(
                event_id=f"Y{n}", tracking_number="YT700000001", status=status,
                occurred_at=timezone.now() + timezone.timedelta(seconds=n), location="上海"))  # fmt: skip
    return order, line


def test_the_buyer_sees_the_timeline_on_the_page_and_the_api(client, api_client, buyer, delivered):
    order, line = delivered
    client.force_login(buyer)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert "YT700000001" in page and "上海" in page
    assert f'<option value="{line.pk}">' in page  # it may be returned
    api_client.force_authenticate(buyer)
    detail = api_client.get(f"/api/v1/orders/{order.number}/").json()
    [parcel] = detail["sections"]["shipments"]
    assert (parcel["courier"], parcel["tracking_number"], parcel["status"], parcel["line_ids"]) == (
        "yto", "YT700000001", "delivered", [line.pk],
    )  # fmt: skip
    assert [e["status"] for e in parcel["events"]] == ["in_transit", "delivered"]
    assert (
        api_client.get(f"/api/v1/orders/{order.number}/shipments/").json()
        == detail["sections"]["shipments"]
    )


def test_another_user_sees_nothing_and_cannot_return(client, api_client, delivered):
    order, line = delivered
    stranger = User.objects.create_user("13900139000")
    client.force_login(stranger)
    assert client.get(f"/orders/{order.number}/").status_code == 404
    api_client.force_authenticate(stranger)
    for path in (f"/api/v1/orders/{order.number}/", f"/api/v1/orders/{order.number}/shipments/",
                 f"/api/v1/orders/{order.number}/returns/"):  # fmt: skip
        answer = api_client.get(path)
        assert (answer.status_code, answer.json()["code"]) == (404, "ORDER_NOT_FOUND")
    answer = api_client.post(f"/api/v1/orders/{order.number}/returns/",
                             {"line_id": line.pk, "unopened": True}, format="json")  # fmt: skip
    assert answer.status_code == 404
    assert not ReturnRequest.objects.exists()


def test_a_return_through_the_api_and_the_page(client, api_client, buyer, delivered):
    order, line = delivered
    api_client.force_authenticate(buyer)
    refused = api_client.post(f"/api/v1/orders/{order.number}/returns/",
                              {"line_id": line.pk, "unopened": False}, format="json")  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (400, "RETURN_MUST_BE_UNOPENED")
    asked = api_client.post(f"/api/v1/orders/{order.number}/returns/",
                            {"line_id": line.pk, "reason": "买错了", "unopened": True}, format="json")  # fmt: skip
    assert asked.status_code == 201
    assert (asked.json()["status"], asked.json()["amount_fen"]) == ("requested", 599900)
    early = api_client.post(f"/api/v1/returns/{asked.json()['id']}/send-back/",
                            {"courier": "sf", "tracking_number": "SF800000001"}, format="json")  # fmt: skip
    assert (early.status_code, early.json()["code"]) == (409, "RETURN_STATE_CONFLICT")
    operator = User.objects.create_superuser("13800000000", "pw")
    client.force_login(operator)
    client.post("/admin/fulfilment/returnrequest/",
                {"action": "approve", "_selected_action": [asked.json()["id"]]})  # fmt: skip
    client.force_login(buyer)
    client.post(f"/orders/{order.number}/returns/{asked.json()['id']}/send-back/",
                {"courier": "sf", "tracking_number": "SF800000001"})  # fmt: skip
    item = ReturnRequest.objects.get()
    assert (item.status, item.courier, item.tracking_number) == ("sent_back", "sf", "SF800000001")
    stranger = User.objects.create_user("13900139000")
    api_client.force_authenticate(stranger)
    answer = api_client.post(f"/api/v1/returns/{item.pk}/send-back/",
                             {"courier": "sf", "tracking_number": "SF800000002"}, format="json")  # fmt: skip
    assert (answer.status_code, answer.json()["code"]) == (404, "RETURN_NOT_FOUND")
    client.force_login(operator)
    client.post("/admin/fulfilment/returnrequest/",
                {"action": "receive", "_selected_action": [item.pk]})  # fmt: skip
    assert ReturnRequest.objects.get().status == "received"
    assert len(ReturnRequest.objects.get().refund_ids) == 1
