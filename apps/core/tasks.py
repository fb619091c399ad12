"""Enqueueing Celery tasks only once the transaction that asked for them has committed."""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` (with ids, not objects) after commit; nothing is sent on rollback."""
    transaction.on_commit(partial(task.apply_async, args=args, kwargs=kwargs))
