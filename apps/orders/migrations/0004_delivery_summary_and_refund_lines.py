"""Orders keeps a summary of each line's delivery (fulfilment owns the state machine): when
fulfilment said every line had ended, and which lines a refund was asked for and why."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_shipments_tracking_returns")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="delivery_settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="orderline",
            name="refund_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="orderline",
            name="refund_note",
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
