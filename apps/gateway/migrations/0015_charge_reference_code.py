"""A CAMARA payment's referenceCode, unique per app: the check in the view raced (two requests
with the same new code could both pass). Existing CAMARA charges (those with a request detail)
get theirs; where two already share one, the first keeps it and the later ones keep only their
merchant_reference (the constraint could not be built otherwise)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0014_package_one_step_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingcharge",
            name="reference_code",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunSQL(
            """
            UPDATE gateway_billingcharge AS c SET reference_code = c.merchant_reference
            FROM (
                SELECT DISTINCT ON (ch.app_id, ch.merchant_reference) ch.id
                FROM gateway_billingcharge ch
                JOIN gateway_chargerequestdetail d ON d.charge_id = ch.id
                WHERE ch.merchant_reference <> ''
                ORDER BY ch.app_id, ch.merchant_reference, ch.created_at, ch.id
            ) AS first
            WHERE c.id = first.id
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name="billingcharge",
            constraint=models.UniqueConstraint(
                fields=("app", "reference_code"), name="gateway_charge_app_reference_code"
            ),
        ),
    ]
