"""Shipping and returns move from ``orders`` to fulfilment, keeping their tables (``orders_*``).

State: the four models are created here (``orders.0006`` deletes them there). Database: the
keys into orders' tables go, the data stays: a parcel's order becomes its number (filled from
the order it pointed to, then the ``order_id`` column is dropped), the line columns
(``order_line_id``) stay as plain ids without their foreign keys, a return gets its order's
number, and deliveries of physical goods and SIM cards get the order's shipping address.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FORWARD = """
ALTER TABLE orders_shipment ADD COLUMN order_number varchar(24);
UPDATE orders_shipment s SET order_number = o.number FROM orders_order o WHERE o.id = s.order_id;
ALTER TABLE orders_shipment ALTER COLUMN order_number SET NOT NULL;
ALTER TABLE orders_shipment DROP COLUMN order_id;
CREATE INDEX orders_shipment_order_number ON orders_shipment (order_number);
ALTER TABLE orders_returnrequest ADD COLUMN order_number varchar(24);
UPDATE orders_returnrequest r SET order_number = o.number
  FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id WHERE l.id = r.order_line_id;
ALTER TABLE orders_returnrequest ALTER COLUMN order_number SET NOT NULL;
CREATE INDEX orders_returnrequest_order_number ON orders_returnrequest (order_number);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT conname, conrelid::regclass AS tbl FROM pg_constraint
           WHERE contype = 'f' AND confrelid = 'orders_orderline'::regclass
             AND conrelid IN ('orders_shipmentline'::regclass, 'orders_returnrequest'::regclass)
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
  END LOOP;
END $$;
UPDATE fulfilment_delivery d SET shipping = o.shipping FROM orders_order o
  WHERE o.number = d.order_number AND d.kind IN ('physical', 'sim');
"""


# Back: the order key and the foreign keys return (filled from the numbers); the data stays.
REVERSE = """
ALTER TABLE orders_shipment ADD COLUMN order_id bigint;
UPDATE orders_shipment s SET order_id = o.id FROM orders_order o WHERE o.number = s.order_number;
ALTER TABLE orders_shipment ALTER COLUMN order_id SET NOT NULL;
ALTER TABLE orders_shipment ADD CONSTRAINT orders_shipment_order_id_fk_orders_order_id
  FOREIGN KEY (order_id) REFERENCES orders_order (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX orders_shipment_order_id ON orders_shipment (order_id);
ALTER TABLE orders_shipment DROP COLUMN order_number;
ALTER TABLE orders_returnrequest DROP COLUMN order_number;
ALTER TABLE orders_shipmentline ADD CONSTRAINT orders_shipmentline_order_line_id_fk_orders_orderline_id
  FOREIGN KEY (order_line_id) REFERENCES orders_orderline (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE orders_returnrequest ADD CONSTRAINT orders_returnrequest_order_line_id_fk_orders_orderline_id
  FOREIGN KEY (order_line_id) REFERENCES orders_orderline (id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('fulfilment', '0010_bulk_and_line_moved_out'),
        ('orders', '0004_delivery_summary_and_refund_lines'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='delivery',
            name='shipping',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Shipment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('order_number', models.CharField(db_index=True, max_length=24, verbose_name='order')),
                        ('courier', models.CharField(choices=[('sf', 'SF Express'), ('zto', 'ZTO Express'), ('yto', 'YTO Express'), ('sto', 'STO Express'), ('yunda', 'Yunda Express'), ('ems', 'China Post EMS'), ('jd', 'JD Logistics')], max_length=8, verbose_name='courier')),
                        ('tracking_number', models.CharField(max_length=40, verbose_name='tracking number')),
                        ('status', models.CharField(choices=[('shipped', 'Shipped'), ('collected', 'Collected by the courier'), ('in_transit', 'In transit'), ('out_for_delivery', 'Out for delivery'), ('delivered', 'Delivered'), ('exception', 'Delivery problem'), ('returned', 'Returned to sender')], default='shipped', max_length=20, verbose_name='status')),
                        ('status_at', models.DateTimeField(verbose_name='status since')),
                        ('delivered_at', models.DateTimeField(blank=True, null=True, verbose_name='delivered at')),
                        ('tracking', models.CharField(choices=[('pending', 'Registering with the courier'), ('registered', 'Registered with the courier'), ('failed', 'Courier registration failed')], default='pending', max_length=12, verbose_name='courier registration')),
                        ('tracking_error', models.CharField(blank=True, max_length=64)),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='shipped at')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('shipped_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'shipment',
                        'verbose_name_plural': 'shipments',
                        'db_table': 'orders_shipment',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ShipmentLine',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('line_id', models.BigIntegerField(db_column='order_line_id', unique=True)),
                        ('shipment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='fulfilment.shipment')),
                    ],
                    options={
                        'db_table': 'orders_shipmentline',
                    },
                ),
                migrations.CreateModel(
                    name='TrackingEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('courier', models.CharField(choices=[('sf', 'SF Express'), ('zto', 'ZTO Express'), ('yto', 'YTO Express'), ('sto', 'STO Express'), ('yunda', 'Yunda Express'), ('ems', 'China Post EMS'), ('jd', 'JD Logistics')], max_length=8)),
                        ('event_id', models.CharField(max_length=64)),
                        ('status', models.CharField(choices=[('shipped', 'Shipped'), ('collected', 'Collected by the courier'), ('in_transit', 'In transit'), ('out_for_delivery', 'Out for delivery'), ('delivered', 'Delivered'), ('exception', 'Delivery problem'), ('returned', 'Returned to sender')], max_length=20)),
                        ('occurred_at', models.DateTimeField()),
                        ('location', models.CharField(blank=True, max_length=100)),
                        ('description', models.CharField(blank=True, max_length=200)),
                        ('applied', models.BooleanField(default=False)),
                        ('received_at', models.DateTimeField(auto_now_add=True)),
                        ('shipment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='fulfilment.shipment')),
                    ],
                    options={
                        'db_table': 'orders_trackingevent',
                        'ordering': ['occurred_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='ReturnRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('line_id', models.BigIntegerField(db_column='order_line_id', db_index=True)),
                        ('order_number', models.CharField(db_index=True, max_length=24, verbose_name='order')),
                        ('status', models.CharField(choices=[('requested', 'Return requested'), ('approved', 'Return approved: send it back'), ('rejected', 'Return rejected'), ('sent_back', 'On its way back'), ('received', 'Received: refund requested')], default='requested', max_length=12, verbose_name='status')),
                        ('reason', models.CharField(max_length=200, verbose_name='reason')),
                        ('amount_fen', models.BigIntegerField(verbose_name='refund (fen)')),
                        ('decision_note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                        ('courier', models.CharField(blank=True, choices=[('sf', 'SF Express'), ('zto', 'ZTO Express'), ('yto', 'YTO Express'), ('sto', 'STO Express'), ('yunda', 'Yunda Express'), ('ems', 'China Post EMS'), ('jd', 'JD Logistics')], max_length=8, verbose_name='courier')),
                        ('tracking_number', models.CharField(blank=True, max_length=40, verbose_name='return tracking number')),
                        ('refund_ids', models.JSONField(blank=True, default=list)),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='requested at')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'return',
                        'verbose_name_plural': 'returns',
                        'db_table': 'orders_returnrequest',
                        'ordering': ['-id'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'rejected'), _negated=True), fields=('line_id',), name='orders_return_once_per_line'), models.CheckConstraint(condition=models.Q(('amount_fen__gt', 0)), name='orders_return_amount')],
                    },
                ),
                migrations.AddIndex(
                    model_name='shipment',
                    index=models.Index(condition=models.Q(('tracking__in', ['pending', 'failed'])), fields=['created_at'], name='orders_shipment_untracked'),
                ),
                migrations.AddConstraint(
                    model_name='shipment',
                    constraint=models.UniqueConstraint(fields=('courier', 'tracking_number'), name='orders_shipment_tracking_once'),
                ),
                migrations.AddConstraint(
                    model_name='trackingevent',
                    constraint=models.UniqueConstraint(fields=('courier', 'event_id'), name='orders_tracking_once'),
                ),
            ],
            database_operations=[migrations.RunSQL(FORWARD, REVERSE)],
        ),
    ]
