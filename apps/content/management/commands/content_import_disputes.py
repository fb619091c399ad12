"""Record the chargebacks of a carrier dispute file: ``manage.py content_import_disputes FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.content import services
from apps.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Record the chargebacks of a carrier dispute file (CSV: dispute_id,charge_id,amount_fen,"
        "reason). Rows recorded before are skipped; exits 1 when any row was refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        try:
            result = services.chargebacks_import(text=text, actor_id=None)
        except DomainError as exc:
            raise CommandError(f"{path}: {exc.code}: {exc.details}") from None
        self.stdout.write(
            f"{result.recorded} chargeback(s) recorded, {result.repeated} recorded before"
        )
        for line, code in result.refused:
            self.stderr.write(f"line {line}: refused, {code}")
        if result.refused:
            raise CommandError(f"{len(result.refused)} row(s) refused", returncode=1)
