"""``ledger_journalline`` becomes range-partitioned by month on ``created_at`` (docs/citus-plan.md
step 9): primary key ``(created_at, id)``, the rows copied, the old table dropped, the
triggers of migration 0002 made again on the partitioned table (PostgreSQL clones row triggers
to every partition, made now or later).

The balance check now reads a journal's lines in its own month only: a line must carry its
journal's ``created_at`` (``journal_post`` always wrote them so), which the check enforces, so
the lookup prunes to one partition instead of probing every month's index.
"""

from django.db import migrations

from apps.core import partitions

CHECK_BOUNDED = r"""
CREATE OR REPLACE FUNCTION ledger_journal_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    jid bigint;
    jat timestamp with time zone;
    line_count integer;
    total numeric;
    unit_count integer;
BEGIN
    IF TG_TABLE_NAME = 'ledger_journal' THEN
        jid := NEW.id;
        jat := NEW.created_at;
    ELSE
        jid := NEW.journal_id;
        SELECT j.created_at INTO jat FROM ledger_journal j WHERE j.id = jid;
        IF NEW.created_at IS DISTINCT FROM jat THEN
            RAISE EXCEPTION 'ledger: a line of journal % is dated %, its journal %; a line carries its journal''s time',
                jid, NEW.created_at, jat
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    SELECT count(*), coalesce(sum(l.amount_fen), 0), count(DISTINCT a.unit)
      INTO line_count, total, unit_count
      FROM ledger_journalline l
      JOIN ledger_ledgeraccount a ON a.id = l.account_id
     WHERE l.journal_id = jid AND l.created_at = jat;
    IF line_count < 2 THEN
        RAISE EXCEPTION 'ledger: journal % has % line(s); a journal needs at least two', jid, line_count
            USING ERRCODE = 'check_violation';
    END IF;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger: journal % is unbalanced: its lines sum to %', jid, total
            USING ERRCODE = 'check_violation';
    END IF;
    IF unit_count <> 1 THEN
        RAISE EXCEPTION 'ledger: journal % mixes units (CNY and POINTS)', jid
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
"""


def forward(apps, schema_editor):
    partitions.partitioned_swap(
        schema_editor,
        table="ledger_journalline",
        spec=partitions.LEDGER_LINES,
        key=("created_at", "id"),
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_hot_account_slots")]

    operations = [
        migrations.RunPython(forward, elidable=False),
        migrations.RunSQL(CHECK_BOUNDED, migrations.RunSQL.noop),
    ]
