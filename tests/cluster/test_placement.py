"""On the cluster: the tables are where apps/core/distribution.py says, and the platform's
reads and writes of reference tables work through the coordinator."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from apps.catalog.models import ProductType
from apps.core import distribution

pytestmark = pytest.mark.django_db


def _shard_placements(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) "
            "WHERE s.logicalrelid = %s::regclass",
            [table],
        )
        return int(cursor.fetchone()[0])


def test_every_reference_table_is_replicated_to_every_node():
    kinds = distribution.placements()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_dist_node WHERE isactive")
        nodes = int(cursor.fetchone()[0])
    assert nodes >= 3  # the coordinator and two workers
    for table in distribution.REFERENCE_TABLES:
        assert kinds.get(table) == "reference", table
        assert _shard_placements(table) == nodes, table


def test_distribute_is_idempotent(capsys):
    call_command("distribute")
    out = capsys.readouterr().out
    assert "reference tables made: 0" in out
    assert f"already: {len(distribution.REFERENCE_TABLES)}" in out


@pytest.mark.django_db(transaction=True)
def test_a_reference_row_written_through_the_coordinator_is_on_every_placement():
    ProductType.objects.create(code="cluster-test", name="集群测试", kind="physical")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nodeport, result FROM run_command_on_placements('catalog_producttype', "
            "$$SELECT count(*) FROM %s WHERE code = 'cluster-test'$$)"
        )
        rows = cursor.fetchall()
    assert len(rows) >= 3
    assert {result for _, result in rows} == {"1"}
