"""Dead letters: Celery tasks that ended in an error after their retries, kept for an operator.

``task_failure`` fires once a task will not run again by itself: it raised, its retries were
exhausted (``self.retry`` re-raises the last error), or it hit its hard time limit. With
``acks_late`` the broker message is acknowledged then, so without this record the work would
be lost silently. The operator re-enqueues the task with its arguments (tasks take ids and are
idempotent) or discards it; both are audited.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import locks, outbox
from apps.core.audit import audited_transition
from apps.core.errors import Conflict, NotFound
from apps.core.models import DeadLetter
from apps.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


class DeadLetterNotFound(NotFound):
    code = "DEAD_LETTER_NOT_FOUND"


class DeadLetterClosed(Conflict):
    code = "DEAD_LETTER_CLOSED"
    default_message = _("This dead letter was already re-enqueued or discarded.")


class DeadLetterTaskUnknown(Conflict):
    code = "DEAD_LETTER_TASK_UNKNOWN"
    default_message = _("No task of this name is registered any more; discard the dead letter.")


def _json(value: Any) -> Any:
    """Arguments as stored: JSON, with anything else as its text (tasks should take ids)."""
    return json.loads(json.dumps(value, default=str))


def dead_letter_record(
    *,
    task_name: str,
    task_id: str,
    args: Any,
    kwargs: Any,
    exception: str,
    traceback: str,
    attempts: int,
) -> None:
    """Keep a failed task. Idempotent per task id while its letter is open (a duplicate signal
    writes nothing); a task id that fails again after a re-enqueue gets a new letter ``id#n``.
    """
    task_id = task_id[:56]
    if DeadLetter.objects.filter(task_id=task_id, status=DeadLetter.Status.OPEN).exists():
        return
    closed = DeadLetter.objects.filter(task_id__regex=rf"^{re.escape(task_id)}(#\d+)?$").count()
    DeadLetter.objects.get_or_create(
        task_id=f"{task_id}#{closed}" if closed else task_id,
        defaults={"task_name": task_name[:200], "args": _json(list(args or [])), "kwargs": _json(dict(kwargs or {})),
                  "exception": exception[:2000], "traceback": traceback[-8000:], "attempts": attempts},
    )  # fmt: skip


def on_task_failure(
    sender: Any = None, task_id: str = "", exception: BaseException | None = None,
    args: Any = None, kwargs: Any = None, einfo: Any = None, **_: Any,
) -> None:  # fmt: skip
    """``task_failure`` receiver (connected in ``CoreConfig.ready``)."""
    try:
        request = getattr(sender, "request", None)
        dead_letter_record(
            task_name=getattr(sender, "name", "") or "unknown", task_id=task_id or "",
            args=args, kwargs=kwargs, exception=f"{type(exception).__name__}: {exception}",
            traceback=str(getattr(einfo, "traceback", "") or ""),
            attempts=int(getattr(request, "retries", 0) or 0) + 1,
        )  # fmt: skip
        if _is_uuid(task_id or ""):
            outbox.event_mark_dead(
                event_id=task_id, error=f"{type(exception).__name__}: {exception}"
            )
    except Exception:
        # The failure is already logged by Celery; a broken database must not mask it.
        logger.exception("could not record dead letter for task %s", task_id)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _locked(dead_letter_id: int) -> DeadLetter:
    letter = locks.dead_letter_lock(dead_letter_id)
    if letter is None:
        raise DeadLetterNotFound()
    return letter


def _close(letter: DeadLetter, status: str, actor_id: int | None) -> None:
    audited_transition(
        letter, status, object_type="dead_letter", object_id=letter.pk, actor_id=actor_id,
        refused=lambda details: DeadLetterClosed(details=details), after={"task": letter.task_name},
    )  # fmt: skip
    letter.resolved_at, letter.resolved_by = timezone.now(), actor_id
    letter.save(update_fields=["status", "resolved_at", "resolved_by"])


def dead_letter_retry(*, dead_letter_id: int, actor_id: int | None) -> None:
    """Re-enqueue the task with its stored arguments, once (``DeadLetterClosed`` after that).

    Locks the dead letter, then an outbox event's row: an event is made pending again and
    sent by the outbox after commit; another task is handed to the outbox as a new event.
    A task that fails again makes a new dead letter.
    """
    with transaction.atomic():
        letter = _locked(dead_letter_id)
        task = current_app.tasks.get(letter.task_name)
        if task is None:
            raise DeadLetterTaskUnknown(details={"task": letter.task_name})
        _close(letter, DeadLetter.Status.RETRIED, actor_id)
        event_id = letter.task_id.split("#")[0]
        if _is_uuid(event_id) and outbox.event_requeue(event_id=event_id):
            return
        enqueue_on_commit(task, *letter.args, **letter.kwargs)


def dead_letter_discard(*, dead_letter_id: int, actor_id: int | None) -> None:
    """Close the dead letter without running the task again. Locks the dead letter."""
    with transaction.atomic():
        _close(_locked(dead_letter_id), DeadLetter.Status.DISCARDED, actor_id)
