"""Seed the demo's SIM number pool: a few thousand numbers of Guangzhou, some of them pretty."""

from __future__ import annotations

from apps.simcards.pool import numbers_generate

DEMO_POOL_SIZE = 3000
DEMO_POOL_SEED = 2026


def seed_sim_pool() -> int:
    """Idempotent: the same seed generates the same numbers, so a second run adds none."""
    return numbers_generate(count=DEMO_POOL_SIZE, seed=DEMO_POOL_SEED, province="广东", city="广州")
