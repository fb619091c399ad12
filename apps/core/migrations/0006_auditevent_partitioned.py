"""``core_auditevent`` becomes range-partitioned by day on ``created_at`` (docs/citus-plan.md
step 9): primary key ``(created_at, id)``, the rows copied, the old table dropped.

The model keeps ``id`` as its primary key in Django's state: ids come from one identity
sequence, so they stay unique without an index that could not include the partition key; the
workbench opens an event by id (an index on ``id`` in each partition serves it), and the
buffered audit writer inserts without reading ids back. ``created_at`` loses its own index:
the primary key starts with it.
"""

from django.db import migrations, models

from apps.core import partitions


def forward(apps, schema_editor):
    partitions.partitioned_swap(
        schema_editor, table="core_auditevent", spec=partitions.AUDIT, key=("created_at", "id")
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0005_core_workbench_columns")]

    operations = [
        migrations.RunPython(forward, elidable=False),
        migrations.RunSQL(
            "CREATE INDEX core_auditevent_id ON core_auditevent (id)",
            "DROP INDEX core_auditevent_id",
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="time"),
        ),
    ]
