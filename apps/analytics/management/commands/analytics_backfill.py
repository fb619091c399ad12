"""Recompute the rollups of a range of days: ``manage.py analytics_backfill 2026-01-01 2026-03-31``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import Progress

from apps.analytics import rollups


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Recompute the analytics rollups of every day from FIRST to LAST (inclusive)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("first")
        parser.add_argument("last", nargs="?", help="default: FIRST")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        first = _day(options["first"])
        last = _day(options["last"]) if options["last"] else first
        if last < first:
            raise CommandError("LAST is before FIRST")
        days = rollups.days_between(first, last)
        with Progress(disable=options["no_progress"], console=None) as progress:
            bar = progress.add_task("rollups", total=len(days))
            for day in days:
                rollups.day_rollup(day=day)
                progress.advance(bar)
        self.stdout.write(f"{len(days)} day(s) recomputed, {first} to {last}")
