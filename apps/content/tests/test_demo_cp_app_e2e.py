"""The sandbox's demo CP app performs an in-app purchase end to end over HTTP: its server lists
the CP's products and creates the charge with signed calls to a live platform, the carrier
texts the subscriber a code, the app confirms it (signed), and the platform's signed
notification reaches the app's server, applied once.

A sandbox process of its own (the session's sandbox was started before the live platform
existed, so its ``SANDBOX_PLATFORM_URL`` cannot point at it)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings as django_settings

from apps.content import services
from apps.content.models import Charge, Notification
from apps.content.tests.support import approved_cp, product_on_sale
from config.embedded import with_database_name
from tests.fixtures.sandbox import SandboxServer, _drop_database, running_sandbox
from tests.fixtures.sandbox_support import unique_msisdn

pytestmark = pytest.mark.django_db(transaction=True)
DEMO_KEY_ID, DEMO_SECRET = "cpdemo_app", "carrierhub-demo-cp-secret-0123456789"


@pytest.fixture
def cp_app_sandbox(live_server, tmp_path, settings) -> Iterator[SandboxServer]:
    """A sandbox whose demo CP app calls the live platform; the platform's carrier is it."""
    main = django_settings.DATABASE_URL
    name = urlsplit(main).path.lstrip("/") + "_sandbox_cpapp"
    if os.environ.get("PYTEST_XDIST_WORKER"):
        name += "_" + os.environ["PYTEST_XDIST_WORKER"]
    database_url = with_database_name(main, name)
    _drop_database(database_url)
    extra_env = {
        "SANDBOX_PLATFORM_URL": live_server.url,
        "SANDBOX_CP_KEY_ID": DEMO_KEY_ID,
        "SANDBOX_CP_SECRET": DEMO_SECRET,
    }
    try:
        with running_sandbox(
            database_url, tmp_path / "sandbox.log", extra_env=extra_env, threads=8
        ) as server:
            settings.CARRIER_BASE_URL = server.url
            yield server
    finally:
        _drop_database(database_url)


def test_the_demo_cp_app_buys_in_app_end_to_end(cp_app_sandbox, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    sandbox = cp_app_sandbox
    cp = approved_cp()
    services.cp_key_issue(cp_id=cp.pk, actor_id=None, demo_secret=DEMO_SECRET, key_id=DEMO_KEY_ID)
    product = product_on_sale(
        cp, price_fen=600, kind="game", notify_url=f"{sandbox.url}/cp-app/notify"
    )
    msisdn = unique_msisdn()
    sandbox.put_subscriber(msisdn, status="active", balance_fen=10_000)
    app = httpx.Client(base_url=sandbox.url, timeout=30)

    listing = app.get("/cp-app/").text  # a signed GET of the CP's products
    assert product.title in listing and "平台返回" not in listing
    bought = app.post(
        "/cp-app/", data={"step": "buy", "product_id": product.pk, "phone": msisdn}
    ).text
    charge = Charge.objects.get(cp=cp)
    assert charge.pk in bought and charge.status == "pending"
    code = re.search(r"验证码(\d{6})", sandbox.messages(msisdn)[0]["text"])
    assert code is not None
    confirmed = app.post(
        "/cp-app/", data={"step": "confirm", "charge_id": charge.pk, "code": code.group(1)}
    ).text

    assert 'data-testid="bought"' in confirmed
    assert Charge.objects.get(pk=charge.pk).status == "succeeded"
    deadline = time.monotonic() + 20
    while (
        Notification.objects.filter(cp=cp, event="charge.succeeded", status="delivered").count() < 1
    ):
        assert time.monotonic() < deadline, list(
            Notification.objects.values("status", "last_response")
        )
        time.sleep(0.2)
    note = Notification.objects.get(cp=cp, event="charge.succeeded")
    page = app.get("/cp-app/").text
    assert str(note.event_id) in page and "charge.succeeded" in page
    app.close()
