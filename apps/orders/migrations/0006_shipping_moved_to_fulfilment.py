"""Shipping and returns leave orders' state for fulfilment (``fulfilment.0011``), with their
tables; the content types move with the models, so permissions granted on them stay granted."""

from django.db import migrations


MOVED = ("shipment", "shipmentline", "trackingevent", "returnrequest")


def content_types_move(apps, schema_editor, back=False):
    content_type = apps.get_model("contenttypes", "ContentType")
    source, target = ("fulfilment", "orders") if back else ("orders", "fulfilment")
    for model in MOVED:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, back=True)


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0005_orders_workbench_labels'),
        ('fulfilment', '0011_shipping_moved_from_orders'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='shipment',
                    name='order',
                ),
                migrations.RemoveField(
                    model_name='shipment',
                    name='shipped_by',
                ),
                migrations.RemoveField(
                    model_name='shipmentline',
                    name='shipment',
                ),
                migrations.RemoveField(
                    model_name='trackingevent',
                    name='shipment',
                ),
                migrations.RemoveField(
                    model_name='shipmentline',
                    name='order_line',
                ),
                migrations.DeleteModel(
                    name='ReturnRequest',
                ),
                migrations.DeleteModel(
                    name='Shipment',
                ),
                migrations.DeleteModel(
                    name='TrackingEvent',
                ),
                migrations.DeleteModel(
                    name='ShipmentLine',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
