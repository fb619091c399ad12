"""The platform's standard accounts, each with its zero balance row; safe to run again.

A frozen copy of ``services.STANDARD_ACCOUNTS`` as it stood when this was written: later
additions go into ``ledger_bootstrap()`` and a new migration. Reversing leaves the rows to
0001's reverse, which drops the tables.
"""

from django.db import migrations
from django.utils import timezone

ACCOUNTS = [
    ("platform:revenue", "平台收入", "revenue", "CNY"),
    ("platform:points_expense", "积分兑付成本", "expense", "CNY"),
    ("clearing:alipay", "支付宝待清算", "asset", "CNY"),
    ("clearing:wechat", "微信支付待清算", "asset", "CNY"),
    ("clearing:unionpay", "银联待清算", "asset", "CNY"),
    ("clearing:carrier_billing", "话费代扣待清算", "asset", "CNY"),
    ("refunds:payable", "应付退款", "liability", "CNY"),
    ("points:issued", "积分发放", "expense", "POINTS"),
    ("points:redeemed", "积分兑换", "revenue", "POINTS"),
    ("points:expired", "积分过期", "revenue", "POINTS"),
]


def create_accounts(apps, schema_editor):
    LedgerAccount = apps.get_model("ledger", "LedgerAccount")
    AccountBalance = apps.get_model("ledger", "AccountBalance")
    now = timezone.now()
    for code, name, kind, unit in ACCOUNTS:
        account, _ = LedgerAccount.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "unit": unit, "created_at": now}
        )
        AccountBalance.objects.get_or_create(account=account, defaults={"updated_at": now})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_ledger_triggers")]

    operations = [migrations.RunPython(create_accounts, migrations.RunPython.noop)]
