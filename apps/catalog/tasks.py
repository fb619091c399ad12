"""Catalog background work: keeping the search index and thumbnails in step with products."""

from __future__ import annotations

from celery import shared_task

from apps.catalog import services


@shared_task(acks_late=True, max_retries=3, default_retry_delay=10)
def product_reindex_task(product_id: int) -> None:
    """Recompute one product's search terms and thumbnail; safe to run any number of times."""
    services.product_reindex(product_id=product_id)


@shared_task
def products_sales_flush_task() -> int:
    """Write the products' sales counted in Redis since the last run (beat)."""
    return services.products_sales_flush()
