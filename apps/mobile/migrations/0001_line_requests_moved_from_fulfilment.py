"""The line pages' requests move from ``fulfilment`` to this app: state only, the table stays.

``LineRequest`` keeps its table (``db_table = "fulfilment_linerequest"``), rows, constraints
and indexes, so this writes nothing to the database and is safe on a live system;
``fulfilment.0010_bulk_and_line_moved_out`` removes the model from fulfilment's state.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='LineRequest',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('user_id', models.BigIntegerField()),
                    ('msisdn', models.CharField(max_length=20)),
                    ('kind', models.CharField(choices=[('plan_change', 'Plan change'), ('addon', 'Add-on')], max_length=16)),
                    ('offer_code', models.CharField(max_length=32)),
                    ('offer_name', models.CharField(max_length=64)),
                    ('fee_fen', models.BigIntegerField()),
                    ('request_key', models.CharField(max_length=64)),
                    ('status', models.CharField(choices=[('submitted', 'Being processed'), ('applied', 'Done'), ('refused', 'Refused'), ('failed', 'Failed')], default='submitted', max_length=16)),
                    ('attempts', models.PositiveSmallIntegerField(default=0)),
                    ('carrier_request_id', models.CharField(blank=True, max_length=32)),
                    ('effective_from', models.DateField(blank=True, null=True)),
                    ('charged_fen', models.BigIntegerField(default=0, help_text='What the carrier took from the balance')),
                    ('error_code', models.CharField(blank=True, max_length=32)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                ],
                options={
                    'verbose_name': 'line request',
                    'verbose_name_plural': 'line requests',
                    'db_table': 'fulfilment_linerequest',
                    'indexes': [models.Index(fields=['user_id', '-created_at'], name='fulfilment_line_req_user')],
                    'constraints': [models.UniqueConstraint(fields=('user_id', 'request_key'), name='fulfilment_line_req_key'), models.UniqueConstraint(condition=models.Q(('status', 'submitted')), fields=('user_id',), name='fulfilment_line_req_one_in_flight')],
                },
            ),
            ],
            database_operations=[],
        ),
    ]
