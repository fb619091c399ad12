"""``manage.py distribute`` on an ordinary PostgreSQL: it says so and changes nothing (the
cluster side is tested by ``make test-cluster``, tests/cluster)."""

import pytest
from django.core.management import call_command
from django.db import connection

from apps.core import distribution

pytestmark = pytest.mark.django_db


def test_without_citus_it_changes_nothing(capsys):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p')")
        tables_before = cursor.fetchone()[0]
    assert not distribution.has_citus()
    call_command("distribute")
    assert "not a Citus database" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p')")
        assert cursor.fetchone()[0] == tables_before


def test_every_reference_table_is_a_table_of_the_schema():
    """A renamed or removed model must not leave the list naming a table that is gone."""
    with connection.cursor() as cursor:
        for table in distribution.REFERENCE_TABLES:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            assert cursor.fetchone()[0], table
