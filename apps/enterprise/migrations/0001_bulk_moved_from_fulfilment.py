"""Bulk distribution moves from ``fulfilment`` to this app: state only, the tables stay.

The three tables keep their names (``db_table``), rows, constraints and indexes, so this
migration writes nothing to the database and is safe on a live system with batches running;
``fulfilment.0010_bulk_and_line_moved_out`` removes the models from fulfilment's state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('fulfilment', '0008_bulk_distribution'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='BulkBatch',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('batch_no', models.CharField(max_length=24, unique=True, verbose_name='batch number')),
                    ('file_name', models.CharField(max_length=200, verbose_name='file name')),
                    ('content_hash', models.CharField(max_length=64)),
                    ('status', models.CharField(choices=[('running', 'Running'), ('completed', 'Completed')], default='running', max_length=16, verbose_name='status')),
                    ('total_rows', models.PositiveIntegerField(verbose_name='rows')),
                    ('invalid_rows', models.PositiveIntegerField(verbose_name='invalid rows')),
                    ('retry_round', models.PositiveSmallIntegerField(default=0)),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                    ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                    ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                ],
                options={
                    'verbose_name': 'bulk distribution batch',
                    'verbose_name_plural': 'bulk distribution batches',
                    'db_table': 'fulfilment_bulkbatch',
                    'ordering': ['-created_at', '-id'],
                },
            ),
            migrations.CreateModel(
                name='BulkRow',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('row_no', models.PositiveIntegerField(help_text='Line number in the file (the header is line 1)')),
                    ('raw_msisdn', models.CharField(max_length=40)),
                    ('raw_pack', models.CharField(max_length=64)),
                    ('msisdn', models.CharField(blank=True, max_length=20)),
                    ('pack_code', models.CharField(blank=True, max_length=64)),
                    ('volume_mb', models.PositiveIntegerField(default=0)),
                    ('validity_days', models.PositiveIntegerField(default=0)),
                    ('price_fen', models.BigIntegerField(default=0)),
                    ('idempotency_key', models.CharField(blank=True, max_length=128)),
                    ('status', models.CharField(choices=[('invalid', 'Invalid'), ('pending', 'Waiting'), ('delivering', 'Delivering'), ('delivered', 'Delivered'), ('failed', 'Failed')], max_length=16)),
                    ('error_code', models.CharField(blank=True, max_length=40)),
                    ('attempts', models.PositiveSmallIntegerField(default=0)),
                    ('failures', models.PositiveSmallIntegerField(default=0, help_text='Times the row failed: numbers the release journals')),
                    ('carrier_request_id', models.CharField(blank=True, max_length=40)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('batch', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='enterprise.bulkbatch')),
                ],
                options={
                    'verbose_name': 'bulk distribution row',
                    'verbose_name_plural': 'bulk distribution rows',
                    'db_table': 'fulfilment_bulkrow',
                    'ordering': ['batch_id', 'row_no'],
                },
            ),
            migrations.CreateModel(
                name='EnterpriseTopUp',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('amount_fen', models.BigIntegerField(verbose_name='amount (fen)')),
                    ('reference', models.CharField(help_text='Bank slip or voucher number', max_length=64, unique=True, verbose_name='payment reference')),
                    ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                    ('journal_id', models.BigIntegerField(blank=True, null=True)),
                    ('created_by', models.BigIntegerField(blank=True, null=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                    ('enterprise', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='enterprise')),
                ],
                options={
                    'verbose_name': 'enterprise top-up',
                    'verbose_name_plural': 'enterprise top-ups',
                    'db_table': 'fulfilment_enterprisetopup',
                    'ordering': ['-created_at'],
                },
            ),
            migrations.AddConstraint(
                model_name='bulkbatch',
                constraint=models.UniqueConstraint(fields=('owner', 'content_hash'), name='fulfilment_bulk_file_once'),
            ),
            migrations.AddIndex(
                model_name='bulkrow',
                index=models.Index(fields=['batch', 'status'], name='fulfilment_bulk_row_status'),
            ),
            migrations.AddIndex(
                model_name='bulkrow',
                index=models.Index(condition=models.Q(('status__in', ['pending', 'delivering'])), fields=['status', 'updated_at'], name='fulfilment_bulk_open_rows'),
            ),
            migrations.AddConstraint(
                model_name='bulkrow',
                constraint=models.UniqueConstraint(fields=('batch', 'row_no'), name='fulfilment_bulk_row_no'),
            ),
            migrations.AddConstraint(
                model_name='bulkrow',
                constraint=models.CheckConstraint(condition=models.Q(('price_fen__gte', 0)), name='fulfilment_bulk_price'),
            ),
            migrations.AddConstraint(
                model_name='enterprisetopup',
                constraint=models.CheckConstraint(condition=models.Q(('amount_fen__gt', 0)), name='fulfilment_topup_positive'),
            ),
            ],
            database_operations=[],
        ),
    ]
