"""``manage.py sim_pool_generate``: add random numbers (some pretty) to the pool; deterministic per seed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.simcards.pool import numbers_generate

MAX_COUNT = 5_000_000


class Command(BaseCommand):
    help = (
        "Add about COUNT random numbers of our segments to the SIM number pool (one in 20 pretty)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=5000)
        parser.add_argument(
            "--seed", type=int, default=5, help="the same seed adds the same numbers"
        )
        parser.add_argument("--province", default="")
        parser.add_argument("--city", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"]
        if not 1 <= count <= MAX_COUNT:
            raise CommandError(f"--count must be 1..{MAX_COUNT}")
        added = numbers_generate(
            count=count, seed=options["seed"], province=options["province"], city=options["city"]
        )
        self.stdout.write(self.style.SUCCESS(f"{added} numbers added to the pool"))
