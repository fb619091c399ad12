"""``manage.py generate_cards --face-value 100 --quantity 1000 --out cards.csv``: a batch of cards.

Printed cards (``--out``): the CSV of numbers and PINs is taken at once into the new file, the
only place the PINs are ever written. Cards sold online (``--sku-id``): their kind and value
come from the SKU, and their PINs are kept encrypted for the buyers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.money import to_fen
from apps.fulfilment.cards import (
    CardValue,
    card_batch_create,
    card_batch_print_file_take,
    card_value_for_sku,
)


class Command(BaseCommand):
    help = "Generate a batch of recharge, data or point cards (printed, or for sale online)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kind", choices=["recharge", "data", "points"], default="recharge")
        parser.add_argument("--face-value", type=int, default=0, help="Yuan (recharge cards)")
        parser.add_argument("--volume-mb", type=int, default=0, help="Data cards")
        parser.add_argument("--validity-days", type=int, default=0, help="Data cards")
        parser.add_argument("--points", type=int, default=0, help="Point cards")
        parser.add_argument("--quantity", type=int, required=True)
        parser.add_argument("--days", type=int, default=365, help="How long the cards stay valid")
        parser.add_argument("--out", type=Path, help="Printed cards: the new CSV file")
        parser.add_argument("--sku-id", type=int, help="Cards sold online as this SKU")

    def handle(self, *args: Any, **o: Any) -> None:
        out: Path | None = o["out"]
        if (out is None) == (o["sku_id"] is None):
            raise CommandError("give either --out (printed cards) or --sku-id (cards sold online)")
        try:
            # Claimed before the batch exists: the PINs must not be generated with nowhere to go.
            handle = out.open("xb") if out is not None else None
        except OSError as exc:
            raise CommandError(
                f"{out}: {exc.strerror}; the PINs are written once, to a new file"
            ) from exc
        try:
            value = (
                card_value_for_sku(sku_id=o["sku_id"]) if o["sku_id"] else
                CardValue(kind=o["kind"], face_value_fen=to_fen(o["face_value"]), volume_mb=o["volume_mb"],
                          validity_days=o["validity_days"], points=o["points"])
            )  # fmt: skip
            batch = card_batch_create(value=value, quantity=o["quantity"], sku_id=o["sku_id"], actor_id=None,
                                      expires_at=timezone.now() + timedelta(days=o["days"]))  # fmt: skip
            if handle is not None:
                assert out is not None
                out.chmod(0o600)
                _name, printable = card_batch_print_file_take(batch_id=batch.pk, actor_id=None)
                handle.write(printable)
        except DomainError as exc:
            if out is not None:
                out.unlink(missing_ok=True)
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        finally:
            if handle is not None:
                handle.close()
        where = f"in {out}" if out else f"for sale as SKU {o['sku_id']}"
        self.stdout.write(
            self.style.SUCCESS(
                f"batch {batch.batch_no}: {o['quantity']} × {value.describe()} {where}"
            )
        )
