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
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.audit import audited_transition
from apps.core.errors import Conflict, NotFound
from apps.core.models import DeadLetter

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
    """Keep a failed task. Idempotent per task id (a duplicate signal writes nothing)."""
    DeadLetter.objects.get_or_create(
        task_id=task_id[:64],
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
    except Exception:
        # The failure is already logged by Celery; a broken database must not mask it.
        logger.exception("could not record dead letter for task %s", task_id)


def _locked(dead_letter_id: int) -> DeadLetter:
    letter = DeadLetter.objects.select_for_update().filter(pk=dead_letter_id).first()
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

    Locks the dead letter; the task is sent after commit. A task that fails again makes a
    new dead letter (it runs under a new task id).
    """
    with transaction.atomic():
        letter = _locked(dead_letter_id)
        task = current_app.tasks.get(letter.task_name)
        if task is None:
            raise DeadLetterTaskUnknown(details={"task": letter.task_name})
        _close(letter, DeadLetter.Status.RETRIED, actor_id)
        args, kwargs = list(letter.args), dict(letter.kwargs)
        transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))


def dead_letter_discard(*, dead_letter_id: int, actor_id: int | None) -> None:
    """Close the dead letter without running the task again. Locks the dead letter."""
    with transaction.atomic():
        _close(_locked(dead_letter_id), DeadLetter.Status.DISCARDED, actor_id)
