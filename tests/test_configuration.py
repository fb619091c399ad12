"""Both configuration modes: zero-config (embedded PostgreSQL started by the entry point) and real."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, django
from config.embedded import database_ensure
database_ensure()  # what manage.py, scripts/run.py and the test bootstrap do
django.setup()
from django.conf import settings
from django.db import connection
from apps.core.redis import get_redis
with connection.cursor() as cursor:
    cursor.execute("SELECT current_database(), 1 + 1")
    database, two = cursor.fetchone()
host = connection.connection.info.host
client = get_redis()
client.set("probe", "1")
print(json.dumps({
    "host": host,
    "database": database,
    "two": two,
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "redis": type(client).__module__,
    "probe": client.get("probe").decode(),
}))
"""


def _probe(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _base_env() -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    return env


def test_importing_the_settings_starts_no_database(tmp_path):
    env = {**_base_env(), "CARRIERHUB_VAR_DIR": str(tmp_path / "var")}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pgdata = (tmp_path / "var" / "pgdata").resolve()
    assert result.stdout.strip() == f"postgresql://postgres:@/carrierhub?host={pgdata}"
    assert not (tmp_path / "var" / "pgdata").exists()


def test_zero_config_starts_embedded_postgres_and_in_process_redis(embedded_var_dir):
    env = {**_base_env(), "CARRIERHUB_VAR_DIR": str(embedded_var_dir)}
    try:
        found = _probe(env)
        assert found["host"] == str((embedded_var_dir / "pgdata").resolve())
        assert found["database"] == "carrierhub"
        assert found["two"] == 2
        assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
        assert found["eager"] is True
        assert found["redis"].startswith("fakeredis")
        assert found["probe"] == "1"
        # A second process finds the running server instead of starting another.
        assert _probe(env)["host"] == found["host"]
    finally:
        stop = "from config.embedded import stop_embedded; stop_embedded()"
        subprocess.run([sys.executable, "-c", stop], cwd=ROOT, env=env, check=True, timeout=60)


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"), reason="needs a real PostgreSQL in DATABASE_URL"
)
@pytest.mark.django_db
def test_real_services_from_environment():
    from django.db import connection

    from config.embedded import with_database_name

    redis_url = os.environ.get("REDIS_URL", "")
    # The run's own test database: the one DATABASE_URL names need not exist (pytest-django
    # makes test_<name> beside it), as on a new machine with only `make test`.
    database_url = with_database_name(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])
    env = {**_base_env(), "DATABASE_URL": database_url}
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CELERY_BROKER_URL"] = redis_url
    found = _probe(env)
    assert found["host"] != ""
    assert found["eager"] is (not redis_url)
    if redis_url:
        assert found["cache"] == "django.core.cache.backends.redis.RedisCache"
        assert found["redis"] == "redis.client"
