"""Messages queued before bulk distribution and the line pages moved still find their tasks."""

from __future__ import annotations

import pytest
from celery import current_app

LEGACY = {
    "apps.fulfilment.bulk.tasks.bulk_batch_dispatch_task": "apps.enterprise.tasks.bulk_batch_dispatch_task",
    "apps.fulfilment.bulk.tasks.bulk_rows_deliver_task": "apps.enterprise.tasks.bulk_rows_deliver_task",
    "apps.fulfilment.bulk.tasks.bulk_rows_retry_stuck_task": "apps.enterprise.tasks.bulk_rows_retry_stuck_task",
    "apps.fulfilment.tasks.line_request_apply_task": "apps.mobile.tasks.line_request_apply_task",
    "apps.fulfilment.tasks.line_requests_retry_stuck_task": "apps.mobile.tasks.line_requests_retry_stuck_task",
}  # fmt: skip


def test_the_old_and_the_new_task_names_are_registered():
    current_app.loader.import_default_modules()
    assert set(LEGACY) | set(LEGACY.values()) <= set(current_app.tasks)


@pytest.mark.django_db
def test_an_old_name_forwards_to_the_new_task():
    current_app.loader.import_default_modules()
    # Eager here: the forwarder runs the new task at once; with nothing stuck it does nothing.
    result = current_app.tasks["apps.fulfilment.bulk.tasks.bulk_rows_retry_stuck_task"].apply()
    assert result.successful()
    result = current_app.tasks["apps.fulfilment.tasks.line_requests_retry_stuck_task"].apply()
    assert result.successful()
