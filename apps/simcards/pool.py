"""Loading numbers into the pool: an operator's CSV file, or a generated pool for demos and benchmarks."""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from apps.carrier.selectors import home_province
from apps.simcards.models import SimNumber
from apps.simcards.patterns import PREMIUM_FEN, pattern_of

# The carrier's own number segments (号段); the pool sells only these.
OWN_SEGMENTS = [
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "172",
    "178",
    "182",
    "183",
    "184",
    "187",
    "188",
    "195",
    "197",
    "198",
]
_NUMBER = re.compile(r"^(?:\+?86)?(1\d{10})$")
MAX_IMPORT_ROWS = 200_000
BATCH = 5_000


@dataclass
class ImportResult:
    created: int = 0
    existing: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _row(raw: dict[str, str]) -> SimNumber:
    match = _NUMBER.match(re.sub(r"[\s-]", "", raw.get("msisdn") or ""))
    if match is None:
        raise ValueError("msisdn must be an 11-digit mobile number")
    digits = match.group(1)
    if digits[:3] not in OWN_SEGMENTS:
        raise ValueError(f"{digits[:3]} is not one of our number segments")
    pattern = pattern_of(digits)
    premium_raw = (raw.get("premium_fen") or "").strip()
    if premium_raw and not premium_raw.isdigit():
        raise ValueError("premium_fen must be a whole number of fen")
    return SimNumber(
        msisdn="+86" + digits, pattern=pattern,
        premium_fen=int(premium_raw) if premium_raw else PREMIUM_FEN[pattern],
        province=(raw.get("province") or "").strip()[:32] or home_province(msisdn="+86" + digits),
        city=(raw.get("city") or "").strip()[:32],
    )  # fmt: skip


def numbers_import(*, text: str) -> ImportResult:
    """Load a CSV (``msisdn[,premium_fen][,province][,city]`` with a header row) into the pool.

    All or nothing: a file with any bad row loads nothing and lists every bad row. Numbers
    already in the pool are left untouched (their state and price), so a file can be loaded
    twice. One transaction.
    """
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "msisdn" not in [f.strip() for f in reader.fieldnames]:
        result.errors.append((1, "the header row must name a msisdn column"))
        return result
    rows: dict[str, SimNumber] = {}
    for line_no, raw in enumerate(reader, start=2):
        if line_no - 1 > MAX_IMPORT_ROWS:
            result.errors.append((line_no, f"at most {MAX_IMPORT_ROWS} rows per file"))
            break
        try:
            row = _row({(k or "").strip(): v for k, v in raw.items()})
        except ValueError as exc:
            result.errors.append((line_no, str(exc)))
            continue
        rows.setdefault(row.msisdn, row)
    if result.errors:
        return result
    with transaction.atomic():
        before = SimNumber.objects.filter(msisdn__in=list(rows)).count()
        SimNumber.objects.bulk_create(list(rows.values()), batch_size=BATCH, ignore_conflicts=True)
    result.existing = before
    result.created = len(rows) - before
    return result


def _pretty_endings() -> Iterable[str]:
    for d in "0123456789":
        yield d * 4
    for start in range(0, 7):
        yield "".join(str(start + i) for i in range(4))
    for d in "689":
        yield "1" + d * 3
    for a, b in (("6", "8"), ("8", "8"), ("5", "2"), ("1", "3")):
        yield a + a + b + b if a != b else "0" + a * 3
        yield a + b + a + b


def numbers_generate(*, count: int, seed: int = 5, province: str = "", city: str = "") -> int:
    """Add about ``count`` random numbers of our segments, one in twenty of them pretty; each
    in ``province`` if given, else in its home province by its segment.

    Deterministic for a seed, so running it again adds nothing new. Returns how many were added.
    """
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    endings = list(_pretty_endings())
    wanted: dict[str, SimNumber] = {}
    while len(wanted) < count:
        segment = rng.choice(OWN_SEGMENTS)
        if len(wanted) % 20 == 0:
            digits = f"{segment}{rng.randrange(10**4):04d}{rng.choice(endings)}"
        else:
            digits = f"{segment}{rng.randrange(10**8):08d}"
        pattern = pattern_of(digits)
        wanted.setdefault(
            digits,
            SimNumber(
                msisdn="+86" + digits, pattern=pattern, premium_fen=PREMIUM_FEN[pattern],
                province=province or home_province(msisdn="+86" + digits), city=city,
            ),
        )  # fmt: skip
    with transaction.atomic():
        before = SimNumber.objects.count()
        SimNumber.objects.bulk_create(
            list(wanted.values()), batch_size=BATCH, ignore_conflicts=True
        )
        return SimNumber.objects.count() - before
