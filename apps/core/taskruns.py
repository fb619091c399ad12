"""The base class of every Celery task: runs counted before they start, so none loops forever.

With ``acks_late`` a message is acknowledged only when its task returns. A task that kills its
worker (out of memory, a segfault, SIGKILL) is delivered again, and again. So each run is
counted in its own committed transaction before the task body starts (``TaskRun.started``),
and counted as finished when it returns or raises; a run that started and never finished was
lost with its worker. A task whose retries plus lost runs exceed its ``max_retries`` becomes
a dead letter instead of running once more.

A task whose id is an outbox event (core.outbox) also acknowledges the event: it is skipped
when the event is already done or dead, and marks it done when it returns.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from celery import Task
from celery.exceptions import Retry

DEFAULT_MAX_LOST_RUNS = 3


def _event_id(task_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(task_id)
    except ValueError:
        return None


def run_begin(*, task_id: str, task_name: str, retries: int, max_retries: int | None) -> bool:
    """Count a run in its own committed transaction; False when the task must not run.

    It must not run when its outbox event is already done or dead, or when its earlier runs
    that failed (``retries``) or never finished (lost with their worker) exceed
    ``max_retries``: then it becomes a dead letter, and its event dead.
    """
    from django.db import connection, transaction

    from apps.core import deadletters, outbox
    from apps.core.models import OutboxEvent

    event_id = _event_id(task_id)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_taskrun (task_id, task_name, started, finished, updated_at)"
            " VALUES (%s, %s, 1, 0, now()) ON CONFLICT (task_id) DO UPDATE"
            " SET started = core_taskrun.started + 1, updated_at = now()"
            " RETURNING started, finished",
            [task_id, task_name[:200]],
        )
        started, finished = cursor.fetchone()
        status = None
        if event_id is not None:
            cursor.execute(
                "UPDATE core_outboxevent SET attempts = attempts + 1, sent_at = now()"
                " WHERE id = %s RETURNING status",
                [event_id],
            )
            row = cursor.fetchone()
            status = row[0] if row else None
    if status in (OutboxEvent.Status.DONE, OutboxEvent.Status.DEAD):
        run_forget(task_id=task_id)
        return False
    lost = started - 1 - finished
    limit = DEFAULT_MAX_LOST_RUNS if max_retries is None else max_retries
    if lost and retries + lost > limit:
        error = f"WorkerLost: the task's worker died in {lost} of its runs"
        with transaction.atomic():
            deadletters.dead_letter_record(
                task_name=task_name, task_id=task_id, args=None, kwargs=None,
                exception=error, traceback="", attempts=retries + lost,
            )  # fmt: skip
            if event_id is not None:
                outbox.event_mark_dead(event_id=event_id, error=error)
            run_forget(task_id=task_id)
        return False
    return True


def run_retry(*, task_id: str, when: Any) -> None:
    """The run ended in ``self.retry``: finished; its event is expected back at ``when``."""
    from django.db.models import F
    from django.utils import timezone

    from apps.core.models import OutboxEvent, TaskRun

    TaskRun.objects.filter(pk=task_id).update(finished=F("finished") + 1)
    event_id = _event_id(task_id)
    if event_id is not None:
        expected = timezone.now()
        if isinstance(when, int | float):
            expected += timedelta(seconds=when)
        elif hasattr(when, "tzinfo"):
            expected = when
        OutboxEvent.objects.filter(pk=event_id).update(sent_at=expected)


def run_forget(*, task_id: str) -> None:
    """The message is done with (returned, failed for good, or skipped)."""
    from apps.core.models import TaskRun

    TaskRun.objects.filter(pk=task_id).delete()


class CountedTask(Task):
    """``config.celery``'s task class (see the module docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if request.called_directly:
            return super().__call__(*args, **kwargs)
        # Eager runs happen inside the caller (and nest on retry): nothing to count there.
        counted = not request.is_eager
        task_id = str(request.id)
        if counted and not run_begin(
            task_id=task_id, task_name=self.name, retries=int(request.retries or 0),
            max_retries=self.max_retries,
        ):  # fmt: skip
            return None
        try:
            result = self.run(*args, **kwargs)
        except Retry as exc:
            if counted:
                run_retry(task_id=task_id, when=exc.when)
            raise
        except BaseException:
            if counted:
                run_forget(task_id=task_id)
            raise
        if _event_id(task_id) is not None:
            from apps.core import outbox

            outbox.event_mark_done(event_id=task_id)
        if counted:
            run_forget(task_id=task_id)
        return result
