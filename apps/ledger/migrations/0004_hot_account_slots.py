"""Hot accounts: a balance spread over sub-balance rows, and the database's guard of the floor.

1. ``AccountBalanceSlot`` rows and ``LedgerAccount.balance_slots``: postings to an account
   with more than one slot move the slot their journal's key picks instead of the account's
   one balance row, so that concurrent postings (every payment credits ``platform:revenue``)
   do not queue on one row lock. The balance is the balance row plus the slots.
2. A party's points holding (POINTS liability) is never spread: its floor is checked against
   its one locked balance row. The CHECK ``ledger_account_points_holding_single_row`` refuses
   the setting; the triggers below refuse a slot row for such an account, and turning an
   account that has slot rows into one.
3. The standard platform accounts (a frozen copy of migration 0003's list) get 32 slots.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


FORWARD = r"""
CREATE FUNCTION ledger_slot_refuse_floor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_ledgeraccount a
                WHERE a.id = NEW.account_id AND a.unit = 'POINTS' AND a.kind = 'liability') THEN
        RAISE EXCEPTION 'ledger: account % holds points with a floor; its balance stays in one row',
            NEW.account_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER ledger_balanceslot_no_floor
    BEFORE INSERT OR UPDATE OF account_id ON ledger_accountbalanceslot
    FOR EACH ROW EXECUTE FUNCTION ledger_slot_refuse_floor();

CREATE FUNCTION ledger_account_floor_without_slots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_accountbalanceslot s WHERE s.account_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger: account % has balance slots; it cannot hold points with a floor',
            OLD.code
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER ledger_account_floor_single_row
    BEFORE UPDATE OF kind, unit ON ledger_ledgeraccount
    FOR EACH ROW
    WHEN (NEW.unit = 'POINTS' AND NEW.kind = 'liability')
    EXECUTE FUNCTION ledger_account_floor_without_slots();
"""

REVERSE = r"""
DROP TRIGGER ledger_account_floor_single_row ON ledger_ledgeraccount;
DROP FUNCTION ledger_account_floor_without_slots();
DROP TRIGGER ledger_balanceslot_no_floor ON ledger_accountbalanceslot;
DROP FUNCTION ledger_slot_refuse_floor();
"""

HOT_ACCOUNTS = [
    "platform:revenue",
    "platform:points_expense",
    "clearing:alipay",
    "clearing:wechat",
    "clearing:unionpay",
    "clearing:carrier_billing",
    "refunds:payable",
    "points:issued",
    "points:redeemed",
    "points:expired",
]


def spread_hot_accounts(apps, schema_editor):
    LedgerAccount = apps.get_model("ledger", "LedgerAccount")
    LedgerAccount.objects.filter(code__in=HOT_ACCOUNTS).update(balance_slots=32)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_standard_accounts"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountBalanceSlot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("slot", models.PositiveSmallIntegerField(verbose_name="slot number")),
                ("balance_fen", models.BigIntegerField(default=0, verbose_name="balance")),
                (
                    "updated_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="updated at"
                    ),
                ),
            ],
            options={
                "verbose_name": "account balance slot",
                "verbose_name_plural": "account balance slots",
            },
        ),
        migrations.AddField(
            model_name="ledgeraccount",
            name="balance_slots",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="balance slots"),
        ),
        migrations.AddConstraint(
            model_name="ledgeraccount",
            constraint=models.CheckConstraint(
                condition=models.Q(("balance_slots__gte", 1), ("balance_slots__lte", 64)),
                name="ledger_account_balance_slots_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgeraccount",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("balance_slots", 1),
                    models.Q(("kind", "liability"), ("unit", "POINTS"), _negated=True),
                    _connector="OR",
                ),
                name="ledger_account_points_holding_single_row",
            ),
        ),
        migrations.AddField(
            model_name="accountbalanceslot",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="balance_slot_rows",
                to="ledger.ledgeraccount",
            ),
        ),
        migrations.AddConstraint(
            model_name="accountbalanceslot",
            constraint=models.UniqueConstraint(
                fields=("account", "slot"), name="ledger_balance_slot_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="accountbalanceslot",
            constraint=models.CheckConstraint(
                condition=models.Q(("slot__lt", 64)), name="ledger_balance_slot_range"
            ),
        ),
        migrations.RunSQL(FORWARD, REVERSE),
        migrations.RunPython(spread_hot_accounts, migrations.RunPython.noop),
    ]
