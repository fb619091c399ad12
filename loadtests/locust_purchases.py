"""Locust users for ``loadtests.payments`` (run by it; not a project requirement).

``BENCH_PAY_CONFIG`` names a JSON file the harness wrote: the buyers' bearer tokens, the SKU,
Alipay's app id and the sandbox's Alipay signing key, and for ``mode: notify`` a file of
notifications signed in advance, one form body a line. ``BENCH_PAY_RESULT`` is where the
user classes write what they counted (successes, first start, last end, latencies), so the
rate is taken over the span of the work itself.

- ``Buyer`` (mode ``purchase``): cart line, checkout, Alipay payment start, and the RSA2-signed
  asynchronous notification Alipay would send; a purchase counts when the platform answers
  ``success``.
- ``Notifier`` (mode ``notify``): posts the pre-signed notifications of pending payments, each
  once; the users stop when none is left.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import sys
import time
from pathlib import Path

from locust import FastHttpUser, constant, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run by locust, outside the project
from alipay_notify import load_key, signed_body

CONFIG = json.loads(Path(os.environ["BENCH_PAY_CONFIG"]).read_text())
_tokens = itertools.cycle(CONFIG["tokens"])
_key = load_key(CONFIG["alipay_key_pem"])
_bodies: collections.deque[str] = collections.deque(
    Path(CONFIG["bodies"]).read_text().splitlines() if CONFIG.get("bodies") else []
)
_counted: dict = {
    "done": 0,
    "errors": 0,
    "first": 0.0,
    "last": 0.0,
    "latencies": [],
    "failures": [],
}


def _failed(step: str, response) -> None:
    if len(_counted["failures"]) < 5:
        _counted["failures"].append(f"{step} {response.status_code} {response.text[:300]}")


def _count(started: float, ok: bool) -> None:
    now = time.monotonic()
    _counted["first"] = _counted["first"] or started
    _counted["last"] = max(_counted["last"], now)
    if ok:
        _counted["done"] += 1
        _counted["latencies"].append(now - started)
    else:
        _counted["errors"] += 1


def alipay_body(public_id: str, amount_fen: int, notify_id: str) -> str:
    return signed_body(key=_key, app_id=CONFIG["app_id"], public_id=public_id,
                       amount_fen=amount_fen, notify_id=notify_id)  # fmt: skip


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Buyer(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.n = 0

    @task
    def purchase(self) -> None:
        if CONFIG["mode"] != "purchase":
            return
        self.n += 1
        # A buyer from the pool per purchase: like real traffic, many buyers buying now and
        # then, not 32 buying non-stop (risk control holds a buyer's 21st checkout in an hour).
        self.auth = {"Authorization": f"Bearer {next(_tokens)}"}
        started = time.monotonic()
        cart = self.client.post("/api/v1/cart/lines/", json={"sku_id": CONFIG["sku"], "quantity": 1},
                                headers=self.auth, name="cart")  # fmt: skip
        if cart.status_code != 201:
            _failed("cart", cart)
            return _count(started, False)
        order = self.client.post("/api/v1/checkout/", headers=self.auth, name="checkout",
                                 json={"checkout_key": f"l{id(self)}-{self.n}-{time.time_ns()}"})  # fmt: skip
        if order.status_code != 201:
            _failed("checkout", order)
            return _count(started, False)
        intent = self.client.post(f"/api/v1/orders/{order.json()['number']}/pay/", name="pay",
                                  json={"method": "alipay", "channel": "page", "attempt_key": "a"},
                                  headers=self.auth)  # fmt: skip
        if intent.status_code != 201:
            _failed("pay", intent)
            return _count(started, False)
        answer = intent.json()
        body = alipay_body(
            answer["public_id"], answer["amount_fen"], f"p{time.time_ns()}{id(self)}"
        )
        notify = self.client.post(
            "/payments/notify/alipay/", data=body, headers=FORM, name="notify"
        )
        ok = notify.text == "success"
        if not ok:
            _failed("notify", notify)
        _count(started, ok)  # a purchase still in flight when the run ends is not counted


class Notifier(FastHttpUser):
    wait_time = constant(0)

    @task
    def notify(self) -> None:
        if CONFIG["mode"] != "notify":
            return
        if not _bodies:
            self.environment.runner.quit()
            return
        body = _bodies.popleft()
        started = time.monotonic()
        answer = self.client.post(
            "/payments/notify/alipay/", data=body, headers=FORM, name="notify"
        )
        _count(started, answer.text == "success")


@events.quitting.add_listener
def _write_result(environment, **_: object) -> None:
    Path(os.environ["BENCH_PAY_RESULT"]).write_text(json.dumps(_counted))
