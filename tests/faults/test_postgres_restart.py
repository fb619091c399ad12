"""PostgreSQL crashes and comes back while buyers check out and the provider notifies payments.

The test starts its own PostgreSQL (``initdb`` on a free port), copies the test database into
it, and points the platform under gunicorn and a Celery worker at it. Buyers (API tokens) add
airtime to their carts (each add under its idempotency key) and check out paying with points; the provider (Alipay, through the
sandbox's signed notifications) posts payment notifications and, like Alipay, repeats each until
it is answered ``success``. In the middle, PostgreSQL is stopped with ``-m immediate`` (a crash:
connections cut, WAL replayed at start), kept down, and started again. Nobody restarts the web
server or the worker. Afterwards: every acknowledged checkout and notification is in the
database, every paid line is delivered or refunded exactly once (the carrier applied each
delivered top-up once), the ledger balances, and the service answered again by itself.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from apps.accounts.models import User
from apps.accounts.services import api_token_issue
from apps.catalog.tests.factories import category, product, product_type
from apps.core.tasks import outbox_sweep_task
from apps.fulfilment.tasks import jobs_retry_stuck_task
from apps.orders import services as orders
from apps.orders.services import CartOwner
from apps.payments import services as payments
from config.embedded import with_database_name
from tests.faults.conftest import broker
from tests.faults.harness import (
    Figures,
    OwnPostgres,
    call,
    celery_worker,
    pg_available,
    platform_env,
    start_web,
    wait_for,
    web_server,
)
from tests.fixtures.sandbox import SandboxServer, _sandbox_database_url
from tests.test_payments_e2e import _pay_at_cashier
from tests.test_worker_fulfilment import _broker_url, _redis_answers

pytestmark = [
    pytest.mark.skipif(not _redis_answers(), reason="needs a Redis server (REDIS_URL)"),
    pytest.mark.skipif(not pg_available(), reason="needs PostgreSQL's initdb and pg_ctl"),
    pytest.mark.django_db(transaction=True),
]
BUYERS = 5
ORDERS_EACH = 3
NOTIFIED_ORDERS = 3
DOWN_SECONDS = 4.0
PRICE = 4980


def _arrange(sandbox: SandboxServer, web_url: str, settings) -> dict:
    """Catalog, buyers with points and tokens, and orders waiting for Alipay's notification."""
    settings.PAYMENTS_PUBLIC_BASE_URL = web_url
    schema = [{"key": "face_value", "label": "面值", "type": "int", "required": True}]
    airtime = product(category("airtime"), product_type("airtime", needs_number=True, schema=schema),
                      "话费 50元", price=PRICE, attributes={"face_value": 50})  # fmt: skip
    sku = airtime.skus.get().pk
    buyers = []
    for i in range(BUYERS):
        user = User.objects.create_user(f"1380013{8100 + i}")
        payments.points_grant(user_id=user.pk, points=100_000, key=f"g{i}", reason="t")
        token, _ = api_token_issue(user_id=user.pk, name="faults")
        number = f"+8613900{139100 + i}"
        sandbox.put_subscriber(number, status="active", balance_fen=0)
        buyers.append({"token": token, "number": number, "user_id": user.pk})
    notes = []
    payer = User.objects.create_user("13800139999")
    for i in range(NOTIFIED_ORDERS):
        number = f"+8613900{139200 + i}"
        sandbox.put_subscriber(number, status="active", balance_fen=0)
        orders.cart_add(owner=CartOwner(user_id=payer.pk), sku_id=sku, quantity=1, recipient=number)
        with transaction.atomic():
            order = orders.checkout_submit(user_id=payer.pk, checkout_key=f"n{i}")
        intent = orders.order_pay(number=order.number, user_id=payer.pk, method="alipay",
                                  channel="page", client_ip="127.0.0.1", attempt_key="a1",
                                  return_url=f"{web_url}/orders/{order.number}/result/")  # fmt: skip
        _pay_at_cashier(intent, mode="lost")  # the sandbox keeps the notification for us to send
        pid = intent.public_id
        wait_for(lambda: bool(sandbox.pay_notifications(pid)), "the note")  # noqa: B023
        notes.append({"order": order.number, "pi": intent.public_id,
                      "note": sandbox.pay_notifications(intent.public_id)[0]})  # fmt: skip
    return {"sku": sku, "buyers": buyers, "notes": notes}


class Buyer(threading.Thread):
    """Adds one top-up and checks out, ORDERS_EACH times; retries a checkout under its key
    until it is answered (a client that lost the answer repeats the same request)."""

    def __init__(
        self, url: str, sku: int, buyer: dict, figures: Figures, stop: threading.Event
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.sku, self.buyer, self.figures, self.stop = url, sku, buyer, figures, stop
        self.adds_acknowledged = 0
        self.adds_replayed = 0
        self.adds_sent = 0
        self.attempts = 0
        self.orders: list[str] = []
        self.server_errors: list[str] = []

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.buyer['token']}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=10) as client:
            for _ in range(ORDERS_EACH):
                # An add answered 503 may have committed before its answer failed: repeated
                # under its idempotency key, it is answered with the first result, not added
                # again.
                add = self._until_answered(client, "POST", "/api/v1/cart/lines/",
                                           json={"sku_id": self.sku, "recipient": self.buyer["number"]},
                                           headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
                self.adds_sent += 1
                if add is not None and add.status_code == 201:
                    self.adds_acknowledged += 1
                    self.adds_replayed += add.headers.get("Idempotent-Replayed") == "true"
                key = uuid.uuid4().hex
                while not self.stop.is_set():
                    cart = self._until_answered(client, "GET", "/api/v1/cart/")
                    if cart is None:
                        return
                    total = cart.json()["total_fen"]
                    if total == 0:
                        break
                    done = self._until_answered(client, "POST", "/api/v1/checkout/",
                                                json={"checkout_key": key, "points": total})  # fmt: skip
                    if done is not None and done.status_code == 201:
                        self.orders.append(done.json()["number"])
                        break
                    if done is not None and done.status_code < 500:
                        self.server_errors.append(f"checkout {done.status_code} {done.text[:200]}")
                        break

    def _until_answered(
        self, client: httpx.Client, method: str, path: str, **kwargs
    ) -> httpx.Response | None:
        self.attempts = 0
        while not self.stop.is_set():
            self.attempts += 1
            response = call(self.figures, client, method, path, **kwargs)
            if response is not None and response.status_code < 500:
                return response
            if response is not None:
                self.server_errors.append(f"{path} {response.status_code}")
                time.sleep(float(response.headers.get("Retry-After", "0")) / 10)
            time.sleep(0.3)
        return None


class Provider(threading.Thread):
    """Alipay: posts each notification until the platform answers ``success``."""

    def __init__(self, notes: list[dict], figures: Figures, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.notes, self.figures, self.stop = notes, figures, stop
        self.acknowledged: list[str] = []
        self.acknowledged_orders: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            for item in self.notes:
                note = item["note"]
                headers = {k: v for k, v in note["headers"].items()
                           if k.lower() not in ("content-length", "host")}  # fmt: skip
                while not self.stop.is_set():
                    response = call(self.figures, client, "POST", note["url"],
                                    content=note["body"].encode(), headers=headers)  # fmt: skip
                    if response is not None and response.text.strip() == "success":
                        self.acknowledged.append(item["pi"])
                        self.acknowledged_orders.append(item["order"])
                        break
                    time.sleep(0.5)
                time.sleep(0.4)  # spread the notifications over the fault


def _rows(url: str, query: str, *args) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchall()


def _sandbox_applied(key: str) -> int:
    with psycopg.connect(_sandbox_database_url()) as conn:
        row = conn.execute("SELECT count(*) FROM sandbox_provisioning WHERE idempotency_key = %s",
                           [key]).fetchone()  # fmt: skip
    return int(row[0]) if row else 0


def test_postgres_crash_during_checkouts_and_notifications(carrier_sandbox, tmp_path, settings):
    figures = Figures(
        "postgres_restart",
        f"PostgreSQL stopped -m immediate, down {DOWN_SECONDS:.0f} s, started again",
    )
    pg = OwnPostgres()
    pg.init()
    broker_url = _broker_url()
    import redis

    redis.Redis.from_url(broker_url).flushdb()
    processes = []
    try:
        env = platform_env(database_url="", redis_url=django_settings.REDIS_URL, broker_url=broker_url,
                           sandbox=carrier_sandbox, public_url="")  # fmt: skip
        web, web_url = web_server(env, tmp_path)
        arranged = _arrange(carrier_sandbox, web_url, settings)
        source = with_database_name(django_settings.DATABASE_URL, connection.settings_dict["NAME"])
        own_url = pg.copy_database(source, "platform")
        env.update(DATABASE_URL=own_url, PAYMENTS_PUBLIC_BASE_URL=web_url,
                   CARRIER_CALLBACK_BASE_URL=web_url, OUTBOX_REDELIVER_AFTER_SECONDS="5",
                   DATABASE_CONN_MAX_AGE="60")  # fmt: skip
        worker = celery_worker(env, tmp_path)
        processes += [web, worker]
        start_web(web, web_url)
        worker.start()

        stop = threading.Event()
        buyers = [Buyer(web_url, arranged["sku"], b, figures, stop) for b in arranged["buyers"]]
        provider = Provider(arranged["notes"], figures, stop)
        for thread in [*buyers, provider]:
            thread.start()
        time.sleep(1.0)  # some checkouts and notifications go through before the crash
        with figures.during_fault():
            pg.stop("immediate")
            time.sleep(DOWN_SECONDS)
            pg.start()
            started = time.monotonic()

            def healthy() -> bool:
                try:
                    return httpx.get(f"{web_url}/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(healthy, "the platform to answer again", 60, web.log)
            figures.recovery_seconds = round(time.monotonic() - started, 2)
        for thread in [*buyers, provider]:
            thread.join(timeout=60)
        stop.set()
        assert not any(t.is_alive() for t in [*buyers, provider]), "clients still waiting"

        # Play beat: the sweeps re-send what the outage interrupted.
        with broker(broker_url):
            paid = [*(n for b in buyers for n in b.orders), *provider.acknowledged_orders]

            def settled() -> bool:
                """Every line of every acknowledged order has a delivery, and it ended."""
                outbox_sweep_task.apply_async()
                jobs_retry_stuck_task.apply_async()
                time.sleep(1.0)
                open_ = _rows(
                    own_url,
                    "SELECT count(*) FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id"
                    " WHERE o.number = ANY(%s) AND NOT EXISTS (SELECT 1 FROM fulfilment_delivery d"
                    " WHERE d.line_id = l.id AND d.status IN ('delivered', 'refunded'))",
                    paid,
                )
                return open_[0][0] == 0

            figures.notes["settle_seconds"] = round(
                wait_for(settled, "every delivery to end", 90, worker.log), 1
            )

        acknowledged = [n for b in buyers for n in b.orders]
        figures.notes["checkouts_acknowledged"] = len(acknowledged)
        figures.notes["notifications_acknowledged"] = len(provider.acknowledged)
        assert len(acknowledged) == BUYERS * ORDERS_EACH, [b.server_errors for b in buyers]
        assert len(provider.acknowledged) == NOTIFIED_ORDERS
        stored = {r[0]: r[1] for r in _rows(own_url, "SELECT number, status FROM orders_order")}
        assert set(acknowledged) <= set(stored)
        for pi in provider.acknowledged:
            assert _rows(
                own_url, "SELECT status FROM payments_paymentintent WHERE public_id = %s", pi
            ) == [("succeeded",)]
        # Every paid line ended once: delivered (applied once at the carrier) or refunded
        # (never applied).
        lines = _rows(own_url, "SELECT l.id, o.number FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id"
                      " WHERE o.number = ANY(%s)", [*acknowledged, *(n['order'] for n in arranged['notes'])])  # fmt: skip
        assert len(lines) == len(acknowledged) + NOTIFIED_ORDERS
        for line_id, _number in lines:
            [(job_id, status)] = _rows(
                own_url, "SELECT id, status FROM fulfilment_delivery WHERE line_id = %s", line_id
            )
            assert status in ("delivered", "refunded")
            assert _sandbox_applied(f"fulfilment:{job_id}:0") == (1 if status == "delivered" else 0)
        # No acknowledged add lost: each is in an order or still in the cart.
        for buyer in buyers:
            [(ordered,)] = _rows(own_url, "SELECT coalesce(sum(l.quantity), 0) FROM orders_orderline l JOIN orders_order o"
                                 " ON o.id = l.order_id WHERE o.user_id = %s", buyer.buyer["user_id"])  # fmt: skip
            [(in_cart,)] = _rows(own_url, "SELECT coalesce(sum(cl.quantity), 0) FROM orders_cartline cl JOIN orders_cart c"
                                 " ON c.id = cl.cart_id WHERE c.user_id = %s", buyer.buyer["user_id"])  # fmt: skip
            # Each add was repeated under its key until answered: exactly one unit each.
            assert buyer.adds_acknowledged == buyer.adds_sent == ORDERS_EACH
            assert ordered + in_cart == buyer.adds_acknowledged
        figures.notes["cart_adds_answered_as_repeats"] = sum(b.adds_replayed for b in buyers)
        unbalanced = _rows(
            own_url,
            "SELECT journal_id FROM ledger_journalline GROUP BY journal_id HAVING sum(amount_fen) <> 0",
        )
        assert unbalanced == []
        assert web.alive() and worker.alive(), "a server process died"
        # Clients were told to come back (503, Retry-After), never that the server broke.
        assert figures.server_errors_during_fault == figures.statuses_during_fault.get("503", 0)
        figures.notes["server_errors_seen"] = sorted({e for b in buyers for e in b.server_errors})[
            :10
        ]
    finally:
        figures.write()
        for process in processes:
            process.stop()
        pg.close()
