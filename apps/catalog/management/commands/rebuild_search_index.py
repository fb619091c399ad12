"""``manage.py rebuild_search_index``: recompute every product's search terms (the database
derives the tsvector from them), in batches, e.g. after changing the segmentation."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.catalog import services
from apps.catalog.models import Product


class Command(BaseCommand):
    help = "Recompute the search terms of every product (or of --since-id onwards)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=2000)
        parser.add_argument("--since-id", type=int, default=0)

    def handle(self, *args: Any, batch: int, since_id: int, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be positive")
        started, done, last = time.monotonic(), 0, since_id
        while True:
            ids = list(
                Product.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            done += services.products_reindex(product_ids=ids)
            last = ids[-1]
            self.stdout.write(f"{done:,} products reindexed ({time.monotonic() - started:.0f} s)")
        services.catalog_changed()
        self.stdout.write(self.style.SUCCESS(f"search index rebuilt: {done:,} products"))
