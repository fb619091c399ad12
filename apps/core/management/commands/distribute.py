"""Place the tables of a migrated database on its Citus cluster (apps/core/distribution.py).

Run after ``migrate`` against the coordinator (``make test-cluster`` and ``make run-cluster`` do);
on a database without the ``citus`` extension it says so and changes nothing. Idempotent.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core import distribution


class Command(BaseCommand):
    help = "Place the tables on the Citus cluster (reference tables first); no-op without Citus."

    def handle(self, *args: Any, **options: Any) -> None:
        if not distribution.has_citus():
            self.stdout.write("not a Citus database (no citus extension): nothing to do")
            return
        if not distribution.coordinator_in_metadata():
            raise CommandError(
                "the coordinator is not in the cluster's metadata: run "
                "SELECT citus_set_coordinator_host('<host>', <port>) on it first (cluster.sh does)"
            )
        verbose = options["verbosity"] > 1
        report = distribution.distribute(say=self.stdout.write if verbose else lambda _: None)
        kinds = distribution.placements()
        counts = {kind: sum(1 for k in kinds.values() if k == kind) for kind in set(kinds.values())}
        self.stdout.write(
            f"reference tables made: {len(report.made_reference)}, already: "
            f"{len(report.already_reference)}; cluster now: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        )
        if report.refused:
            for table, why in report.refused.items():
                self.stderr.write(f"{table}: {why}")
            raise CommandError(f"{len(report.refused)} table(s) could not be placed")
