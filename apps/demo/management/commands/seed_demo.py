"""``manage.py seed_demo``: add demo data; running it again adds nothing twice."""

from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.demo import seed
from apps.demo.cards_seed import seed_cards
from apps.demo.catalog_seed import english_variants, seed_catalog
from apps.demo.content_seed import seed_content
from apps.demo.gateway_seed import seed_gateway
from apps.demo.marketing_seed import seed_marketing
from apps.demo.risk_seed import seed_risk
from apps.demo.service_seed import seed_faqs
from apps.demo.settlement_seed import seed_settlement_rules
from apps.demo.sim_seed import seed_sim_pool
from apps.demo.wechat_seed import seed_wechat_menu


def _last_days(days: int) -> tuple[str, str]:
    today = timezone.localdate()
    return (today - timedelta(days=days - 1)).isoformat(), today.isoformat()


class Command(BaseCommand):
    help = "Seed demo users and the demo catalog (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        users = seed.seed_users()
        products = seed_catalog()
        packages = seed_gateway()
        seed_cards()
        numbers = seed_sim_pool()
        seed_faqs()
        content = seed_content()
        english_variants()  # the content listings' SKUs (price points) are new after the catalog
        seed_settlement_rules()
        seed_risk()
        campaigns = seed_marketing()
        # The workbench's charts: the last 30 days rolled up (beat keeps today's fresh).
        call_command("analytics_backfill", *_last_days(30), "--no-progress", stdout=self.stdout)
        seed_wechat_menu()
        self.stdout.write(
            self.style.SUCCESS(
                f"demo data ready: {users} new users, {products} new products, "
                f"{packages} new capability packages"
            )
        )
        self.stdout.write(self.style.SUCCESS(f"SIM number pool: {numbers} new numbers"))
        self.stdout.write(self.style.SUCCESS(f"content: {content} new demo CP products"))
        self.stdout.write(self.style.SUCCESS(f"marketing: {campaigns} new campaigns"))
