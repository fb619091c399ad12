"""Locust: anonymous shoppers who browse, search, open products and add them to the cart.

Locust is not a project requirement; install it where you run it (a separate virtualenv keeps
its dependencies away from the project's)::

    pip install locust==2.47.0
    locust -f loadtests/locustfile.py --host http://127.0.0.1:8000            # web UI on :8089
    locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 \\
        --headless --users 50 --spawn-rate 10 --run-time 1m                     # stops by itself

Point it at loopback or at your own test deployment only. Adding to the cart writes rows
(guest carts), so use a benchmark database, not one whose data you need.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from locust import HttpUser, between, task

QUERIES = [
    line.strip()
    for line in (Path(__file__).with_name("search_queries.txt")).read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
PRODUCT_LINK = re.compile(r'href="/p/(\d+)/"')
SKU_INPUT = re.compile(r'name="sku" value="(\d+)"(?![^>]*disabled)')
# Physical goods need no recipient number (airtime and data packs ask for one and check it
# with the carrier), so the cart step stays inside the platform.
PHYSICAL_QUERIES = ["充电宝", "手机壳", "耳机", "5G手机"]


class Shopper(HttpUser):
    wait_time = between(1, 4)

    def on_start(self) -> None:
        categories = self.client.get("/api/v1/categories/", name="/api/v1/categories/").json()
        leaves = [c["slug"] for c in categories if c.get("parent")]
        self.categories = leaves or [c["slug"] for c in categories] or ["data"]
        self.seen: list[int] = []  # product ids found on pages
        self.buyable: list[int] = []  # physical products, for the cart

    def _collect(self, html: str) -> list[int]:
        ids = [int(i) for i in PRODUCT_LINK.findall(html)]
        self.seen = (self.seen + ids)[-200:]
        return ids

    @task(3)
    def home(self) -> None:
        self._collect(self.client.get("/", name="/").text)

    @task(3)
    def category(self) -> None:
        slug = random.choice(self.categories)
        self._collect(self.client.get(f"/c/{slug}/", name="/c/[slug]/").text)

    @task(4)
    def search(self) -> None:
        query = random.choice(QUERIES)
        self._collect(self.client.get("/search/", params={"q": query}, name="/search/?q=").text)

    @task(2)
    def search_api(self) -> None:
        query = random.choice(QUERIES)
        self.client.get("/api/v1/products/", params={"q": query}, name="/api/v1/products/?q=")

    @task(3)
    def product(self) -> None:
        if not self.seen:
            return self.home()
        product_id = random.choice(self.seen)
        self.client.get(f"/p/{product_id}/", name="/p/[id]/")
        return None

    @task(1)
    def add_to_cart(self) -> None:
        if not self.buyable:
            query = random.choice(PHYSICAL_QUERIES)
            found = self.client.get(
                "/api/v1/products/", params={"q": query, "kind": "physical", "in_stock": "true"},
                name="/api/v1/products/?kind=physical",
            ).json()  # fmt: skip
            self.buyable = [item["id"] for item in found.get("items", [])]
            if not self.buyable:
                return
        product_id = random.choice(self.buyable)
        page = self.client.get(f"/p/{product_id}/", name="/p/[id]/").text
        sku = SKU_INPUT.search(page)
        token = self.client.cookies.get("csrftoken")
        if not sku or not token:
            return
        with self.client.post(
            "/cart/add/",
            data={"sku": sku.group(1), "quantity": "1", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.host}/p/{product_id}/"},
            name="/cart/add/",
            catch_response=True,
        ) as response:
            # Success redirects to the cart; a refusal (sold out, over the limit) back to the
            # product with a message. Both are answers, not failures of the platform.
            if response.status_code != 200:
                response.failure(f"cart add answered {response.status_code}")
