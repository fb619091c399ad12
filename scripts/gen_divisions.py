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

OUT = Path(__file__).resolve().parents[1] / "apps" / "accounts" / "data" / "divisions.json"


def build(rows: list[tuple[str, str]]) -> list[dict[str, object]]:
    names = {code[:6]: name for code, name in rows}
    provinces: dict[str, dict[str, object]] = {}
    for code in sorted(names):
        if code.endswith("0000"):
            provinces[code] = {"code": code, "name": names[code], "cities": {}}
    for code in sorted(names):
        if code.endswith("0000") or not code.endswith("00"):
            continue
        province = provinces.get(code[:2] + "0000")
        if province is not None:
            # A municipality's "市辖区" is the city itself.
            name = province["name"] if names[code] in ("市辖区", "县") else names[code]
            province["cities"][code] = {"code": code, "name": name, "districts": []}  # type: ignore[index]
    for code in sorted(names):
        if code.endswith("00") or names[code] == "市辖区":
            continue
        province = provinces.get(code[:2] + "0000")
        if province is None:
            continue
        cities = province["cities"]  # type: ignore[assignment]
        city = cities.get(code[:4] + "00")  # type: ignore[union-attr]
        if city is None:  # a county-level unit directly under the province
            city = cities.setdefault(
                code[:4] + "00",
                {"code": code[:4] + "00", "name": province["name"], "districts": []},
            )  # type: ignore[union-attr]
        city["districts"].append({"code": code, "name": names[code]})
    return [
        {**p, "cities": list(p["cities"].values())}  # type: ignore[union-attr]
        for p in provinces.values()
    ]


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("cpca/resources/adcodes.csv").decode("utf-8")
    rows = [(r["adcode"], r["name"]) for r in csv.DictReader(io.StringIO(text))]
    OUT.write_text(json.dumps(build(rows), ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
