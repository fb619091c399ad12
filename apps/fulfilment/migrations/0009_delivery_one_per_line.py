"""The fulfilment job becomes the ``Delivery`` of every paid order line, with no key into
orders' table; the SIM activation proxy goes (a SIM line's delivery is its activation).

Existing rows keep their ids, so the carrier idempotency keys ``fulfilment:<id>:<unit>`` of
jobs already sent stay the same. Lines that had no job (physical goods, SIM cards, digital
goods) get a delivery whose state follows the line's old fulfilment state (and, for a SIM,
the number's activation).
"""

from django.db import migrations, models

JOB_KINDS = {"airtime": "airtime", "data_pack": "data_pack", "plan": "plan_change",
             "addon": "addon", "points": "points", "e_card": "card", "sim": "sim"}  # fmt: skip
LINE_STATES = {"ready": "pending", "delivering": "delivering", "delivered": "delivered",
               "failed": "failed", "refunded": "refunded"}  # fmt: skip


def backfill(apps, schema_editor):
    Delivery = apps.get_model("fulfilment", "Delivery")
    OrderLine = apps.get_model("orders", "OrderLine")
    Product = apps.get_model("catalog", "Product")
    SimNumber = apps.get_model("simcards", "SimNumber")
    owners = {}
    for delivery in Delivery.objects.all().iterator():
        line = OrderLine.objects.select_related("order").filter(pk=delivery.line_id).first()
        if line is not None:
            delivery.sku_id = line.sku_id
            delivery.user_id = delivery.user_id or line.order.user_id
            if delivery.status == "delivered":
                delivery.delivered_at = delivery.updated_at
            delivery.save(update_fields=["sku_id", "user_id", "delivered_at"])
    had = set(Delivery.objects.values_list("line_id", flat=True))
    lines = (
        OrderLine.objects.select_related("order")
        .filter(fulfilment__in=list(LINE_STATES))
        .exclude(pk__in=had)
        .order_by("pk")
    )
    for line in lines.iterator():
        if line.product_id not in owners:
            product = (
                Product.objects.select_related("product_type").filter(pk=line.product_id).first()
            )
            owners[line.product_id] = product.product_type.code if product else ""
        type_code = owners[line.product_id]
        kind = JOB_KINDS.get(type_code) or {"physical": "physical", "digital": "digital"}.get(
            line.kind, "airtime"
        )
        status = LINE_STATES[line.fulfilment]
        if kind == "sim":
            number = SimNumber.objects.filter(order_line_id=line.pk).first()
            if number is not None and number.status == "active":
                status = "delivered"
            elif status == "delivered":
                status = "delivering"  # the card arrived; its line is being opened
        Delivery.objects.create(
            line_id=line.pk, order_number=line.order.number, sku_id=line.sku_id, kind=kind,
            msisdn=line.recipient_msisdn, units=line.quantity, user_id=line.order.user_id,
            label=line.product_name[:128], refund_fen=line.total_fen, status=status,
            delivered_at=line.order.updated_at if status == "delivered" else None,
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("fulfilment", "0008_bulk_distribution"),
        ("orders", "0004_delivery_summary_and_refund_lines"),
        ("catalog", "0001_initial"),
        ("simcards", "0001_number_pool"),
    ]

    operations = [
        migrations.DeleteModel(name="SimActivation"),
        migrations.RenameModel(old_name="FulfilmentJob", new_name="Delivery"),
        migrations.AlterModelOptions(
            name="delivery",
            options={"verbose_name": "delivery", "verbose_name_plural": "deliveries"},
        ),
        migrations.AlterField(
            model_name="delivery",
            name="order_line",
            field=models.BigIntegerField(unique=True, db_column="order_line_id"),
        ),
        migrations.RenameField(model_name="delivery", old_name="order_line", new_name="line_id"),
        migrations.AlterField(
            model_name="delivery",
            name="line_id",
            field=models.BigIntegerField(help_text="The order line delivered", unique=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="sku_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="attributes",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="delivery",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="detail",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="msisdn",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="kind",
            field=models.CharField(
                choices=[
                    ("airtime", "Airtime top-up"),
                    ("data_pack", "Data pack"),
                    ("card", "Cards (number and PIN)"),
                    ("plan_change", "Plan change"),
                    ("addon", "Add-on"),
                    ("points", "Points"),
                    ("sim", "SIM card (shipped, then activated)"),
                    ("physical", "Physical goods (shipped)"),
                    ("digital", "Digital goods (entitlement)"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
