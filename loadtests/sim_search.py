"""Number-pool search on a large pool: fill it in SQL, then time and EXPLAIN each kind of search.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/carrierhub_simbench \\
        python -m loadtests.sim_search --count 1000000

Use a database of its own: it is migrated and filled (numbers already there are kept). Each
search runs ``--repeat`` times through ``simcards.selectors.numbers_search`` (first page of
20); the report gives the median and the worst time, PostgreSQL's own execution time (EXPLAIN
ANALYZE) and the scans it chose. ``--count 0`` times an existing pool without adding to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# The pattern of a number's ending, in SQL, the same rules as ``simcards.patterns.pattern_of``.
_PATTERN_SQL = r"""
CASE
  WHEN d ~ '(\d)\1\1\1$' THEN 'AAAA'
  WHEN right(d, 4) IN ('0123','1234','2345','3456','4567','5678','6789',
                       '9876','8765','7654','6543','5432','4321','3210') THEN 'ABCD'
  WHEN d ~ '(\d)\1\1$' THEN 'AAA'
  WHEN d ~ '(\d)\1(\d)\2$' THEN 'AABB'
  WHEN d ~ '(\d)(\d)\1\2$' THEN 'ABAB'
  ELSE '' END
"""
_PREMIUM_SQL = (
    "CASE p WHEN 'AAAA' THEN 99900 WHEN 'ABCD' THEN 29900 WHEN 'AAA' THEN 19900 "
    "WHEN 'AABB' THEN 9900 WHEN 'ABAB' THEN 5900 ELSE 0 END"
)

SEARCHES: list[tuple[str, dict[str, str]]] = [
    ("prefix 1380013", {"prefix": "1380013"}),
    ("prefix 138 (broad)", {"prefix": "138"}),
    ("ends with 888", {"suffix": "888"}),
    ("ends with 8888", {"suffix": "8888"}),
    ("contains 520", {"contains": "520"}),
    ("contains 13145", {"contains": "13145"}),
    ("pattern AABB", {"pattern": "AABB"}),
    ("prefix 139 + ends 666", {"prefix": "139", "suffix": "666"}),
]


def fill(count: int) -> int:
    """Insert about ``count`` random numbers of our segments in one statement; returns the pool size."""
    from django.db import connection

    from apps.simcards.pool import OWN_SEGMENTS

    segments = "ARRAY[" + ",".join(f"'{s}'" for s in OWN_SEGMENTS) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO simcards_simnumber (msisdn, pattern, premium_fen, province, city, status,
                hold_reference, owner_name, owner_id_encrypted, owner_id_hash, owner_id_masked,
                activation_request_id, activation_attempts, activation_error, created_at, updated_at)
            SELECT '+86' || d, p, {_PREMIUM_SQL}, '', '', 'available', '', '', '', '', '', '', 0, '',
                   now(), now()
            FROM (
                SELECT d, {_PATTERN_SQL} AS p FROM (
                    SELECT ({segments})[1 + floor(random() * %s)::int]
                           || lpad(floor(random() * 1e8)::bigint::text, 8, '0') AS d
                    FROM generate_series(1, %s)
                ) raw
            ) shaped
            ON CONFLICT (msisdn) DO NOTHING
            """,  # noqa: S608 - the interpolated parts are constants of this module
            [len(OWN_SEGMENTS), count],
        )
        cursor.execute("ANALYZE simcards_simnumber")
        cursor.execute("SELECT count(*) FROM simcards_simnumber")
        return int(cursor.fetchone()[0])


def _plan(query: dict[str, str]) -> tuple[str, float]:
    """The scans PostgreSQL chose for the first page, and its own execution time in ms."""
    import json

    from django.db import connection

    from apps.simcards.models import SimNumber

    qs = SimNumber.objects.filter(status="available")
    if query.get("prefix"):
        qs = qs.filter(digits__startswith=query["prefix"])
    if query.get("suffix"):
        qs = qs.filter(digits_reversed__startswith=query["suffix"][::-1])
    if query.get("contains"):
        qs = qs.filter(digits__contains=query["contains"])
    if query.get("pattern"):
        qs = qs.filter(pattern=query["pattern"])
    order = "digits_reversed" if query.get("suffix") and not query.get("prefix") else "digits"
    sql, params = qs.order_by(order)[:21].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        raw = cursor.fetchone()[0]
    explained = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    scans: list[str] = []

    def walk(node: dict) -> None:
        if "Scan" in node["Node Type"]:
            scans.append(f"{node['Node Type']} {node.get('Index Name', '')}".strip())
        for child in node.get("Plans", []):
            walk(child)

    walk(explained["Plan"])
    return " / ".join(scans), float(explained["Execution Time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="numbers to add (0: none)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.core.management import call_command

    from apps.simcards.selectors import numbers_search

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    size = fill(args.count)
    print(f"pool: {size:,} numbers (filled in {time.perf_counter() - started:.1f} s)")
    print(f"{'search':<24} {'found':>5} {'median ms':>10} {'worst ms':>9} {'pg ms':>7}  plan")
    for label, query in SEARCHES:
        timings = []
        found = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            found = len(
                numbers_search(
                    prefix=query.get("prefix", ""), suffix=query.get("suffix", ""),
                    contains=query.get("contains", ""), pattern=query.get("pattern", ""),
                ).results
            )  # fmt: skip
            timings.append((time.perf_counter() - t0) * 1000)
        scans, pg_ms = _plan(query)
        print(
            f"{label:<24} {found:>5} {statistics.median(timings):>10.2f} {max(timings):>9.2f} "
            f"{pg_ms:>7.2f}  {scans}"
        )


if __name__ == "__main__":
    main()
