"""``manage.py generate_cards --face-value 100 --quantity 1000 --out cards.csv``: a batch of
recharge cards; the CSV (numbers and PINs) is the only place the PINs are ever written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.errors import DomainError
from apps.fulfilment.cards import card_batch_create


class Command(BaseCommand):
    help = "Generate a batch of recharge cards and write the printable CSV."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--face-value", type=int, required=True, help="Yuan")
        parser.add_argument("--quantity", type=int, required=True)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--out", type=Path, required=True)

    def handle(
        self, *args: Any, face_value: int, quantity: int, days: int, out: Path, **options: Any
    ) -> None:
        if out.exists():
            raise CommandError(f"{out} exists; the PINs are written once, to a new file")
        try:
            batch, printable = card_batch_create(
                face_value_fen=face_value * 100, quantity=quantity,
                expires_at=timezone.now() + timedelta(days=days), actor_id=None,
            )  # fmt: skip
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        out.write_bytes(printable)
        out.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"batch {batch.batch_no}: {quantity} cards of ¥{face_value} in {out}"
            )
        )
