"""Bulk distribution's models leave fulfilment's state; their tables now belong to ``enterprise``.

State only (see ``enterprise.0001_bulk_moved_from_fulfilment``): no table is dropped. The
content types move with the models, so permissions granted on them stay granted.
"""

from django.db import migrations

MODELS = ["bulkbatch", "bulkrow", "enterprisetopup"]


def content_types_move(apps, schema_editor, source="fulfilment", target="enterprise"):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="enterprise", target="fulfilment")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("enterprise", "0001_bulk_moved_from_fulfilment"),
        ("fulfilment", "0008_bulk_distribution"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="bulkrow", name="batch"),
                migrations.RemoveField(model_name="enterprisetopup", name="enterprise"),
                migrations.DeleteModel(name="BulkBatch"),
                migrations.DeleteModel(name="BulkRow"),
                migrations.DeleteModel(name="EnterpriseTopUp"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
