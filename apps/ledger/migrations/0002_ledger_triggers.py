"""The database's own guard of the book, so that it holds even when Python is bypassed.

1. Every journal balances: at commit (a DEFERRABLE INITIALLY DEFERRED constraint trigger, so
   a journal's lines can be inserted one by one), each journal that got lines, and each new
   journal, must have at least two lines that sum to zero on accounts of one unit.
2. Journals and lines are append-only: UPDATE and DELETE raise; so does TRUNCATE of a
   table that holds rows (truncating an empty table changes nothing, and Django's test
   flush truncates every table).
3. An account keeps its code and unit once created: lines are read through them.

The non-zero amount CHECK is the model's ``ledger_line_amount_nonzero`` (migration 0001).
All errors are SQLSTATE class 23 (integrity), which Django raises as ``IntegrityError``.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_journal_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    jid bigint;
    line_count integer;
    total numeric;
    unit_count integer;
BEGIN
    IF TG_TABLE_NAME = 'ledger_journal' THEN
        jid := NEW.id;
    ELSE
        jid := NEW.journal_id;
    END IF;
    SELECT count(*), coalesce(sum(l.amount_fen), 0), count(DISTINCT a.unit)
      INTO line_count, total, unit_count
      FROM ledger_journalline l
      JOIN ledger_ledgeraccount a ON a.id = l.account_id
     WHERE l.journal_id = jid;
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

CREATE CONSTRAINT TRIGGER ledger_journalline_balanced
    AFTER INSERT ON ledger_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_check();

CREATE CONSTRAINT TRIGGER ledger_journal_has_lines
    AFTER INSERT ON ledger_journal
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_check();

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % on % is refused; the book is append-only (post a reversal)',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_journalline_immutable
    BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_journal_immutable
    BEFORE UPDATE OR DELETE ON ledger_journal
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE FUNCTION ledger_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    has_rows boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO has_rows;
    IF has_rows THEN
        RAISE EXCEPTION 'ledger: TRUNCATE on % is refused; the book is append-only', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ledger_journalline_no_truncate
    BEFORE TRUNCATE ON ledger_journalline
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_truncate();

CREATE TRIGGER ledger_journal_no_truncate
    BEFORE TRUNCATE ON ledger_journal
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_truncate();

CREATE FUNCTION ledger_account_keep_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: account % keeps its code and unit', OLD.code
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_account_identity
    BEFORE UPDATE OF code, unit ON ledger_ledgeraccount
    FOR EACH ROW
    WHEN (OLD.code IS DISTINCT FROM NEW.code OR OLD.unit IS DISTINCT FROM NEW.unit)
    EXECUTE FUNCTION ledger_account_keep_identity();
"""

REVERSE = r"""
DROP TRIGGER ledger_account_identity ON ledger_ledgeraccount;
DROP FUNCTION ledger_account_keep_identity();
DROP TRIGGER ledger_journal_no_truncate ON ledger_journal;
DROP TRIGGER ledger_journalline_no_truncate ON ledger_journalline;
DROP FUNCTION ledger_refuse_truncate();
DROP TRIGGER ledger_journal_immutable ON ledger_journal;
DROP TRIGGER ledger_journalline_immutable ON ledger_journalline;
DROP FUNCTION ledger_refuse_change();
DROP TRIGGER ledger_journal_has_lines ON ledger_journal;
DROP TRIGGER ledger_journalline_balanced ON ledger_journalline;
DROP FUNCTION ledger_journal_check();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
