"""The TRUNCATE guard on every ledger-line partition: PostgreSQL clones row-level triggers to
partitions but not statement-level ones, so after 0005 a TRUNCATE of one partition passed the
parent's ``ledger_journalline_no_truncate``. Partitions made later get it from the job."""

from django.db import migrations


def forwards(apps, schema_editor):
    from apps.core.partitions import statement_triggers_ensure

    statement_triggers_ensure("ledger_journalline")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_journalline_partitioned")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
