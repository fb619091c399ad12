"""Write apps/accounts/data/divisions.json from the administrative-division codes of a
maintained package, so that the address book picks province, city and district from lists.

Source: the ``adcodes.csv`` of the cpca package (MIT licence, © 2018 QinYuan Du), which
carries the codes the National Bureau of Statistics publishes. Run it again when the package
is updated: ``pip download --no-deps cpca`` and ``python -m scripts.gen_divisions WHEEL``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "apps" / "accounts" / "data" / "divisions.json"


def build(rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    names = {code[:6]: name for code, name in rows}
    provinces: dict[str, dict[str, Any]] = {}
    cities: dict[str, dict[str, dict[str, Any]]] = {}
    for code in sorted(names):
        if code.endswith("0000"):
            provinces[code] = {"code": code, "name": names[code]}
            cities[code] = {}
    for code in sorted(names):
        if code.endswith("0000") or not code.endswith("00"):
            continue
        province = code[:2] + "0000"
        if province in provinces:
            # A municipality's "市辖区" is the city itself.
            name = provinces[province]["name"] if names[code] in ("市辖区", "县") else names[code]
            cities[province][code] = {"code": code, "name": name, "districts": []}
    for code in sorted(names):
        if code.endswith("00") or names[code] == "市辖区":
            continue
        province = code[:2] + "0000"
        if province not in provinces:
            continue
        city_code = code[:4] + "00"
        # A county-level unit directly under the province hangs under the province's name.
        city = cities[province].setdefault(
            city_code, {"code": city_code, "name": provinces[province]["name"], "districts": []}
        )
        city["districts"].append({"code": code, "name": names[code]})
    return [{**p, "cities": list(cities[code].values())} for code, p in provinces.items()]


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("cpca/resources/adcodes.csv").decode("utf-8")
    rows = [(r["adcode"], r["name"]) for r in csv.DictReader(io.StringIO(text))]
    OUT.write_text(json.dumps(build(rows), ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
