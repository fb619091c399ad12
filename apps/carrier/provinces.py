"""Which provincial BOSS serves a number: its number segment (H code) → home province.

China Mobile's BOSS is provincial: a top-up, data pack, plan change or add-on for a number is
applied by the BOSS of the number's home province. The home province comes from the first 7
digits of the national number (the H code), looked up in ``data/segments.csv`` (ranges
``first,last,province``); ``data/provinces.csv`` names the 31 provinces. Production replaces
the segments file with MIIT's H-code table in the same format; the shipped one is the
sandbox's allocation (every China Mobile prefix split across the 31 provinces).
"""

from __future__ import annotations

import bisect
import csv
import functools
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Province:
    code: str  # lower-case, as in the BOSS path: /carrier/v1/provinces/<code>/...
    name: str
    name_en: str


@functools.cache
def provinces() -> dict[str, Province]:
    """The 31 provinces by code, in the file's order."""
    with (DATA / "provinces.csv").open(encoding="utf-8") as handle:
        return {row["code"]: Province(**row) for row in csv.DictReader(handle)}


@functools.cache
def _segments() -> tuple[list[int], list[int], list[str]]:
    rows = []
    with (DATA / "segments.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append((int(row["first"]), int(row["last"]), row["province"]))
    rows.sort()
    known = provinces()
    for (first, last, code), following in zip(rows, [*rows[1:], (10**7, 0, "")], strict=True):
        if code not in known or not first <= last < following[0]:
            raise ValueError(f"segments.csv: bad or overlapping range {first}-{last} {code}")
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def province_of(msisdn: str) -> Province | None:
    """The home province of ``+86…`` or an 11-digit number; ``None`` outside our segments."""
    national = msisdn.removeprefix("+86")
    if len(national) != 11 or not national.isdigit():
        return None
    h_code = int(national[:7])
    firsts, lasts, codes = _segments()
    index = bisect.bisect_right(firsts, h_code) - 1
    if index < 0 or h_code > lasts[index]:
        return None
    return provinces()[codes[index]]
