"""Bulk distribution and the line requests leave fulfilment's state for ``enterprise``, ``mobile``.

State only (see ``enterprise.0001_bulk_moved_from_fulfilment`` and
``mobile.0001_line_requests_moved_from_fulfilment``): no table is dropped or renamed. The
content types move with the models, so permissions granted on them stay granted.
"""

from django.db import migrations

MOVED = {"bulkbatch": "enterprise", "bulkrow": "enterprise", "enterprisetopup": "enterprise",
         "linerequest": "mobile"}  # fmt: skip


def content_types_move(apps, schema_editor, back=False):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app in MOVED.items():
        source, target = (app, "fulfilment") if back else ("fulfilment", app)
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, back=True)


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("enterprise", "0001_bulk_moved_from_fulfilment"),
        ("mobile", "0001_line_requests_moved_from_fulfilment"),
        ("fulfilment", "0009_delivery_one_per_line"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="bulkrow", name="batch"),
                migrations.RemoveField(model_name="enterprisetopup", name="enterprise"),
                migrations.DeleteModel(name="BulkBatch"),
                migrations.DeleteModel(name="BulkRow"),
                migrations.DeleteModel(name="EnterpriseTopUp"),
                migrations.DeleteModel(name="LineRequest"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
