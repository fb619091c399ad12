"""``manage.py seed_demo``: add demo data; running it again adds nothing twice."""

from django.core.management.base import BaseCommand

from apps.demo import seed
from apps.demo.cards_seed import seed_cards
from apps.demo.catalog_seed import seed_catalog
from apps.demo.gateway_seed import seed_gateway
from apps.demo.service_seed import seed_faqs
from apps.demo.sim_seed import seed_sim_pool
from apps.demo.wechat_seed import seed_wechat_menu


class Command(BaseCommand):
    help = "Seed demo users and the demo catalog (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        users = seed.seed_users()
        products = seed_catalog()
        packages = seed_gateway()
        seed_cards()
        numbers = seed_sim_pool()
        seed_faqs()
        seed_wechat_menu()
        self.stdout.write(
            self.style.SUCCESS(
                f"demo data ready: {users} new users, {products} new products, "
                f"{packages} new capability packages"
            )
        )
        self.stdout.write(self.style.SUCCESS(f"SIM number pool: {numbers} new numbers"))
