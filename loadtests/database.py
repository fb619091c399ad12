"""The benchmark's own database and Redis: reach them, migrate, seed and fill the catalog.

``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/carrierhub_bench``) and
``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/5``) keep benchmark data away from the
development database. When that PostgreSQL does not answer, the embedded server of the
zero-config run is used instead (database ``carrierhub_bench``); when Redis does not answer,
each server process caches pages in its own memory, which the report then says.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from loadtests.servers import ROOT

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/carrierhub_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
CHUNK = 99_999  # gen_catalog rebuilds its indexes from 100,000 products up (see _generate)
BENCH_SECRET_KEY = "carrierhub-bench-only-not-secret"  # noqa: S105 - loopback benchmark servers


@dataclass
class BenchDatabase:
    url: str
    db_name: str
    redis_url: str  # "" when Redis was unreachable
    embedded: bool
    embedded_started: bool
    env: dict[str, str]
    products: int = 0
    generated: int = 0
    gen_seconds: float | None = None
    gen_method: str = ""
    seed_error: str = ""
    product_id: int = 0
    postgres_version: str = ""
    redis_version: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "database": "embedded PostgreSQL" if self.embedded else _without_password(self.url),
            "db_name": self.db_name,
            "redis": self.redis_url or "none (per-process memory cache)",
            "products": self.products,
            "generated_now": self.generated,
            "gen_catalog_seconds": self.gen_seconds,
            "gen_catalog_method": self.gen_method,
            "seed_demo_error": self.seed_error,
            "product_id": self.product_id,
            "postgres_version": self.postgres_version,
            "redis_version": self.redis_version,
        }


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _connect(url: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(url, connect_timeout=5, **kwargs)


def _ensure_database(url: str) -> str:
    """Create the database named in ``url`` if it is missing; return its name."""
    from psycopg import sql

    from config.embedded import with_database_name

    name = urlsplit(url).path.lstrip("/") or "carrierhub_bench"
    with _connect(with_database_name(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    return name


def _redis(url: str) -> str:
    """Redis's version, or "" when it does not answer."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        return str(client.info("server")["redis_version"])
    except (redis.RedisError, OSError) as exc:
        print(f"Redis at {url} is unreachable ({exc})")
        return ""


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def connect(db: BenchDatabase) -> Any:
    return _connect(db.url, autocommit=True)


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def prepare(*, products: int, url: str = "") -> BenchDatabase:
    """Reach (or fall back), migrate, seed, and make sure the catalog has ``products`` rows."""
    url = url or bench_url()
    embedded = embedded_started = False
    try:
        db_name = _ensure_database(url)
    except Exception as exc:  # any failure to reach it means: fall back
        print(f"PostgreSQL at {_without_password(url)} is unreachable ({exc});")
        print("falling back to the zero-config embedded PostgreSQL (data under var/)")
        from config import embedded as emb

        embedded_started = not emb.embedded_is_running()
        db_name = "carrierhub_bench"
        url = emb.embedded_database_url(db_name)
        embedded = True
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    redis_version = _redis(redis_url)
    if not redis_version:
        print("  the page cache is then per server process (not shared between workers)")
        redis_url = ""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": BENCH_SECRET_KEY,
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    db = BenchDatabase(url, db_name, redis_url, embedded, embedded_started, env)
    db.redis_version = redis_version
    print(f"database: {_without_password(url) if not embedded else 'embedded ' + db_name}")
    manage("migrate", "--noinput", "-v", "0", env=env)
    seeded = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
        text=True, check=False,
    )  # fmt: skip
    with connect(db) as conn:
        db.postgres_version = conn.execute("SHOW server_version").fetchone()[0]
        have = conn.execute("SELECT count(*) FROM catalog_product").fetchone()[0]
    if seeded.returncode != 0:
        error = (seeded.stderr.strip().splitlines() or ["no message"])[-1]
        if not have:
            raise RuntimeError("seed_demo failed:\n" + seeded.stderr[-3000:])
        print(f"seed_demo failed ({error}); the bench database already holds a seeded catalog "
              f"({have:,} products), so the benchmark goes on")  # fmt: skip
        db.seed_error = error
    if have < products:
        db.generated = products - have
        print(f"the bench database has {have:,} products; generating {db.generated:,} more")
        db.gen_seconds, db.gen_method = _generate(db.generated, env=env)
        print(f"generated {db.generated:,} products in {db.gen_seconds} s ({db.gen_method})")
        # Settle the new rows now (visibility map, statistics) rather than have autovacuum do
        # it in the middle of a measurement.
        started = time.monotonic()
        with connect(db) as conn:
            conn.execute("VACUUM (ANALYZE) catalog_product")
            conn.execute("VACUUM (ANALYZE) catalog_sku")
        print(f"VACUUM (ANALYZE): {time.monotonic() - started:.1f} s")
    else:
        print(f"reusing the {have:,} products already in the bench database")
    with connect(db) as conn:
        db.products = conn.execute("SELECT count(*) FROM catalog_product").fetchone()[0]
        # A product that is on sale, with an active SKU: the product page under test.
        row = conn.execute(
            """
            SELECT p.id FROM catalog_product p
            WHERE p.status = 'published'
              AND (p.on_shelf_at IS NULL OR p.on_shelf_at <= now())
              AND (p.off_shelf_at IS NULL OR p.off_shelf_at > now())
              AND EXISTS (SELECT 1 FROM catalog_sku s WHERE s.product_id = p.id AND s.is_active)
            ORDER BY p.id LIMIT 1
            """
        ).fetchone()
    if row is None:
        raise RuntimeError("no product on sale in the bench database")
    db.product_id = int(row[0])
    return db


def _generate(count: int, *, env: dict[str, str]) -> tuple[float, str]:
    """Run gen_catalog for ``count`` products; return (seconds, how).

    One call is tried first: from 100,000 products up, gen_catalog drops the two GIN indexes
    and rebuilds them after the load, checking the deferred foreign keys first (PostgreSQL
    refuses CREATE INDEX with trigger events pending; 900,000 products in one call took 421 s
    on the shared machine). If the call fails all the same, the products are generated in
    calls below that size, which keep the indexes in place.
    """
    started = time.monotonic()
    first = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "gen_catalog", "--products", str(count)],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, check=False,
    )  # fmt: skip
    if first.returncode == 0:
        return round(time.monotonic() - started, 1), f"one gen_catalog --products {count}"
    error = first.stderr.strip().splitlines()[-1] if first.stderr.strip() else "no message"
    print(
        f"gen_catalog --products {count} failed after {time.monotonic() - started:.0f} s: {error}"
    )
    if count <= CHUNK:
        raise RuntimeError("gen_catalog failed:\n" + first.stderr[-3000:])
    print(f"  (its transaction rolled back); generating in calls of at most {CHUNK:,} instead")
    started = time.monotonic()
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        manage("gen_catalog", "--products", str(size), "--seed", str(1 + done), env=env)
        done += size
    return round(time.monotonic() - started, 1), f"{-(-count // CHUNK)} calls of at most {CHUNK:,}"


def drop_cached_pages(db: BenchDatabase) -> None:
    """Bump the catalog version, as any catalog write does, so no cached page is served."""
    code = "from apps.catalog.services import catalog_changed; catalog_changed()"
    manage("shell", "-c", code, env=db.env)


def release(db: BenchDatabase | None) -> None:
    """Stop the embedded PostgreSQL if this benchmark started it."""
    if db is not None and db.embedded_started:
        from config.embedded import stop_embedded

        stop_embedded()
        print("embedded PostgreSQL stopped")
