"""The phone-bill spending caps move here from a payments setting: two amount caps per
subscriber (sliding day and 30 days), their first limits from the old settings."""

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    phone_bill_caps_ensure(apps.get_model("risk", "Cap"))


def phone_bill_caps_ensure(Cap):
    """Also called by the test suite after a transactional test emptied the tables."""
    for code, window, limit in [
        ("phone-bill-user-day", "day", getattr(settings, "CARRIER_BILLING_DAILY_LIMIT_FEN", 20_000)),
        ("phone-bill-user-month", "month", getattr(settings, "CARRIER_BILLING_MONTHLY_LIMIT_FEN", 50_000)),
    ]:
        Cap.objects.get_or_create(
            code=code,
            defaults={"kinds": ["phone_bill_charge"], "dimension": "user_id", "window": window,
                      "metric": "amount", "limit": limit, "outcome": "block"},
        )


def backwards(apps, schema_editor):
    apps.get_model("risk", "Cap").objects.filter(code__startswith="phone-bill-user-").delete()


class Migration(migrations.Migration):
    dependencies = [("risk", "0002_holds_cases")]
    operations = [migrations.RunPython(forwards, backwards)]
