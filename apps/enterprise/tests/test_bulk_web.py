"""Bulk distribution pages, API and workbench: who may use them, what they answer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.enterprise import billing
from apps.enterprise.models import BulkBatch, BulkRow, EnterpriseTopUp
from apps.enterprise.tests.bulk_support import data_packs, enterprise

pytestmark = pytest.mark.django_db
FILE = "手机号,流量包\n13800138011,DATA-1G\n13800138012,DATA-500M\nbad,DATA-1G\n".encode()


@pytest.fixture
def owner(carrier_sandbox):
    data_packs()
    for number in ("+8613800138011", "+8613800138012"):
        carrier_sandbox.put_subscriber(number, status="active")
    return enterprise()


def test_api_upload_status_results_and_repeat(
    owner, api_client, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/enterprise/bulk/batches/",
            {"file": SimpleUploadedFile("a.csv", FILE)},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["total"], body["invalid"]) == (True, 3, 1)
    batch_no = body["batch_no"]
    status = api_client.get(f"/api/v1/enterprise/bulk/batches/{batch_no}/").json()
    assert (status["status"], status["delivered"], status["failed"], status["pending"]) == (
        "completed",
        2,
        0,
        0,
    )
    assert status["charged_fen"] == 800
    csv = b"".join(
        api_client.get(f"/api/v1/enterprise/bulk/batches/{batch_no}/results.csv").streaming_content
    )
    assert (
        csv.decode().lstrip("\ufeff").splitlines()[3]
        == "4,bad,DATA-1G,invalid,INVALID_PHONE_NUMBER,0,"
    )
    again = api_client.post(
        "/api/v1/enterprise/bulk/batches/",
        {"file": SimpleUploadedFile("b.csv", FILE)},
        format="multipart",
    )
    assert again.status_code == 200
    assert (again.json()["batch_no"], again.json()["created"]) == (batch_no, False)
    retry = api_client.post(f"/api/v1/enterprise/bulk/batches/{batch_no}/retry/")
    assert (retry.status_code, retry.json()["code"]) == (409, "BULK_NOTHING_TO_RETRY")
    assert api_client.get("/api/v1/enterprise/balance/").json() == {
        "available_fen": 9200,
        "held_fen": 0,
    }


def test_api_refuses_consumers_and_other_owners(
    owner, api_client, django_capture_on_commit_callbacks
):
    consumer = User.objects.create_user("13800138099")
    api_client.force_authenticate(consumer)
    response = api_client.post(
        "/api/v1/enterprise/bulk/batches/",
        {"file": SimpleUploadedFile("a.csv", FILE)},
        format="multipart",
    )
    assert (response.status_code, response.json()["code"]) == (403, "NOT_AN_ENTERPRISE")
    assert not BulkBatch.objects.exists()
    api_client.force_authenticate(owner)
    with django_capture_on_commit_callbacks(execute=True):
        batch_no = api_client.post(
            "/api/v1/enterprise/bulk/batches/",
            {"file": SimpleUploadedFile("a.csv", FILE)},
            format="multipart",
        ).json()["batch_no"]
    api_client.force_authenticate(enterprise("13900000005", topup_fen=0))
    response = api_client.get(f"/api/v1/enterprise/bulk/batches/{batch_no}/")
    assert (response.status_code, response.json()["code"]) == (404, "BULK_BATCH_NOT_FOUND")
    poor = api_client.post(
        "/api/v1/enterprise/bulk/batches/",
        {"file": SimpleUploadedFile("a.csv", FILE)},
        format="multipart",
    )
    assert (poor.status_code, poor.json()["code"]) == (402, "INSUFFICIENT_PREPAID_BALANCE")
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/enterprise/bulk/batches/").status_code in (401, 403)


def test_pages_upload_show_progress_and_download(owner, client, django_capture_on_commit_callbacks):
    client.force_login(owner)
    assert client.get("/enterprise/bulk/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/enterprise/bulk/", {"file": SimpleUploadedFile("a.csv", FILE)})
    batch = BulkBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/enterprise/bulk/{batch.batch_no}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'id="batch-progress"' in page.content
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert fragment.content.lstrip().startswith(b'<section id="batch-progress"')
    assert b"hx-trigger" not in fragment.content  # completed: the page stops polling
    download = client.get(f"/enterprise/bulk/{batch.batch_no}/results.csv")
    assert download["Content-Type"].startswith("text/csv")
    assert len(b"".join(download.streaming_content).splitlines()) == 4
    bad = client.post("/enterprise/bulk/", {"file": SimpleUploadedFile("x.csv", b"")})
    assert bad.status_code == 400
    assert BulkBatch.objects.count() == 1


def test_pages_refuse_a_consumer(client):
    client.force_login(User.objects.create_user("13800138098"))
    response = client.get("/enterprise/bulk/")
    assert response.status_code == 403


def test_operator_tops_up_in_the_workbench_once(owner, client):
    admin = User.objects.create_superuser("13800000010", password="pw")
    client.force_login(admin)
    form = {"enterprise": owner.pk, "amount_fen": 50_000, "reference": "SLIP-1", "note": "wire"}
    assert client.post("/admin/enterprise/enterprisetopup/add/", form).status_code == 302
    again = client.post("/admin/enterprise/enterprisetopup/add/", form)
    assert again.status_code == 200  # the reference is taken: a form error, nothing posted
    assert EnterpriseTopUp.objects.filter(reference="SLIP-1").count() == 1
    assert billing.prepaid_balance(enterprise_id=owner.pk).available_fen == 10_000 + 50_000
    assert client.get("/admin/enterprise/bulkbatch/").status_code == 200
    assert client.get("/admin/enterprise/bulkrow/").status_code == 200
    assert client.get("/admin/core/deadletter/").status_code == 200
    assert BulkRow.objects.count() == 0
