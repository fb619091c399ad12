"""The content phone-bill caps move here from ``apps.content.limits``: per subscriber a day and
30 days, per CP a day, all amounts over the kind ``content_charge``; their first limits from
the old ``CONTENT_CAPS`` setting (or content's old defaults)."""

from django.conf import settings
from django.db import migrations

# code, dimension, window, the old setting's name, its default (fen)
CONTENT_CAPS = [
    ("content-user-day", "user_id", "day", "subscriber_daily_fen", 200_00),
    ("content-user-month", "user_id", "month", "subscriber_monthly_fen", 500_00),
    ("content-cp-day", "cp_id", "day", "cp_daily_fen", 10_000_000_00),
]


def forwards(apps, schema_editor):
    content_caps_ensure(apps.get_model("risk", "Cap"))


def content_caps_ensure(Cap):
    """Also called by the test suite after a transactional test emptied the tables."""
    old = getattr(settings, "CONTENT_CAPS", {})
    for code, dimension, window, name, default in CONTENT_CAPS:
        Cap.objects.get_or_create(
            code=code,
            defaults={"kinds": ["content_charge"], "dimension": dimension, "window": window,
                      "metric": "amount", "limit": old.get(name, default), "outcome": "block"},
        )  # fmt: skip


def backwards(apps, schema_editor):
    codes = [row[0] for row in CONTENT_CAPS]
    apps.get_model("risk", "Cap").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_phone_bill_caps")]
    operations = [migrations.RunPython(forwards, backwards)]
