"""``manage.py seed_demo``: add demo data; running it again adds nothing twice."""

from django.core.management.base import BaseCommand

from apps.demo import seed


class Command(BaseCommand):
    help = "Seed demo users (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        users = seed.seed_users()
        self.stdout.write(self.style.SUCCESS(f"demo data ready: {users} new users"))
