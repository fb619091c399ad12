"""China's administrative divisions (province, city, district) for address pickers.

The data file is generated from a maintained package's codes by scripts/gen_divisions.py.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_DATA = Path(__file__).resolve().parent / "data" / "divisions.json"


@lru_cache(maxsize=1)
def _tree() -> list[dict[str, Any]]:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def provinces() -> list[str]:
    return [p["name"] for p in _tree()]


def cities(province: str) -> list[str]:
    for p in _tree():
        if p["name"] == province:
            return [c["name"] for c in p["cities"]]
    return []


def districts(province: str, city: str) -> list[str]:
    for p in _tree():
        if p["name"] == province:
            for c in p["cities"]:
                if c["name"] == city:
                    return [d["name"] for d in c["districts"]]
    return []


def division_valid(province: str, city: str, district: str) -> bool:
    """Whether the three names are a real province, one of its cities and (when the city has
    districts) one of that city's districts."""
    if city not in cities(province):
        return False
    known = districts(province, city)
    return district in known if known else district == ""
