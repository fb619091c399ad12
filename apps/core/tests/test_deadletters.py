"""Dead letters: a task that exhausts its retries is kept, then re-enqueued or discarded once."""

from __future__ import annotations

import pytest
from celery import Task, shared_task
from django.contrib.auth import get_user_model

from apps.core import deadletters
from apps.core.models import AuditEvent, DeadLetter

pytestmark = pytest.mark.django_db
RUNS: list[int] = []
BROKEN = {"on": True}


@shared_task(bind=True, max_retries=2)
def flaky_task(self: Task, item_id: int) -> int:
    RUNS.append(item_id)
    if BROKEN["on"]:
        raise self.retry(exc=RuntimeError(f"item {item_id} is broken"), countdown=0)
    return item_id


@pytest.fixture(autouse=True)
def _reset():
    RUNS.clear()
    BROKEN["on"] = True


def _exhaust(item_id: int) -> None:
    """Run the task's last allowed attempt (as a worker would after two retries); it fails.

    ``throw=False`` traces the failure as a worker does (the test settings propagate errors
    of eager tasks, which skips the failure signal)."""
    result = flaky_task.apply(args=[item_id], retries=2, throw=False)
    assert result.failed()


def test_a_task_that_exhausts_its_retries_becomes_a_dead_letter():
    _exhaust(7)
    assert RUNS == [7]
    letter = DeadLetter.objects.get()
    assert (letter.task_name, letter.args, letter.kwargs, letter.attempts, letter.status) == (
        "apps.core.tests.test_deadletters.flaky_task", [7], {}, 3, "open",
    )  # fmt: skip
    assert letter.exception == "RuntimeError: item 7 is broken"
    assert "RuntimeError" in letter.traceback


def test_retry_re_enqueues_once_and_is_audited(django_capture_on_commit_callbacks):
    _exhaust(8)
    letter = DeadLetter.objects.get()
    BROKEN["on"] = False
    RUNS.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deadletters.dead_letter_retry(dead_letter_id=letter.pk, actor_id=42)
    assert RUNS == [8]
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == ("retried", 42)
    event = AuditEvent.objects.get(object_type="dead_letter")
    assert (event.action, event.actor_id, event.before, event.after["status"]) == (
        "dead_letter.retried", 42, {"status": "open"}, "retried",
    )  # fmt: skip
    with pytest.raises(deadletters.DeadLetterClosed):
        deadletters.dead_letter_retry(dead_letter_id=letter.pk, actor_id=42)
    assert RUNS == [8]
    with pytest.raises(deadletters.DeadLetterClosed):
        deadletters.dead_letter_discard(dead_letter_id=letter.pk, actor_id=42)


def test_discard_closes_without_running(client, django_capture_on_commit_callbacks):
    _exhaust(9)
    letter = DeadLetter.objects.get()
    RUNS.clear()
    admin = get_user_model().objects.create_superuser("13800000009", password="pw")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/core/deadletter/",
            {"action": "discard", "_selected_action": [letter.pk]},
        )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert (letter.status, letter.resolved_by) == ("discarded", admin.pk)
    assert RUNS == []
    assert AuditEvent.objects.filter(action="dead_letter.discarded", actor_id=admin.pk).count() == 1


def test_an_unknown_task_cannot_be_retried():
    letter = DeadLetter.objects.create(
        task_name="gone.task", task_id="x", exception="E", attempts=1
    )
    with pytest.raises(deadletters.DeadLetterTaskUnknown):
        deadletters.dead_letter_retry(dead_letter_id=letter.pk, actor_id=None)
    letter.refresh_from_db()
    assert letter.status == "open"
