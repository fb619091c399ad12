"""The outbox: events written in the caller's transaction, handlers applied once, dead letters."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from apps.core import outbox, taskruns
from apps.core.models import DeadLetter, OutboxEvent, OutboxReceipt, TaskRun
from apps.core.tasks import enqueue_on_commit, outbox_deliver_task

pytestmark = pytest.mark.django_db
SEEN: list[tuple[str, str]] = []
BROKEN: set[str] = set()


@outbox.handler("test.thing_happened")
def thing_count(event: outbox.Event) -> None:
    SEEN.append(("count", event.payload["n"]))


@outbox.handler("test.thing_happened")
def thing_audit(event: outbox.Event) -> None:
    if "audit" in BROKEN:
        raise RuntimeError("audit is down")
    SEEN.append(("audit", event.payload["n"]))


@shared_task
def note_task(n: str) -> None:
    SEEN.append(("task", n))


@pytest.fixture(autouse=True)
def _reset():
    SEEN.clear()
    BROKEN.clear()


def _publish(n: str, key: str | None = None) -> uuid.UUID:
    with transaction.atomic():
        return outbox.publish("test.thing_happened", {"n": n}, key=key)


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused_and_writes_nothing():
    with pytest.raises(outbox.OutboxError):
        outbox.publish("test.thing_happened", {"n": "1"})
    assert not OutboxEvent.objects.exists()


def test_handlers_run_after_commit_each_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        event_id = outbox.publish("test.thing_happened", {"n": "1"})
        assert SEEN == []
    assert len(callbacks) == 1
    assert SEEN == [("count", "1"), ("audit", "1")]
    event = OutboxEvent.objects.get()
    assert (event.id, event.status, event.done_at is not None) == (event_id, "done", True)
    assert sorted(OutboxReceipt.objects.values_list("handler", flat=True)) == [
        "apps.core.tests.test_outbox.thing_audit",
        "apps.core.tests.test_outbox.thing_count",
    ]


def _publish_then_fail() -> None:
    with transaction.atomic():
        outbox.publish("test.thing_happened", {"n": "1"})
        raise ZeroDivisionError


def test_rollback_writes_and_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ZeroDivisionError),
    ):
        _publish_then_fail()
    assert (callbacks, SEEN, OutboxEvent.objects.count()) == ([], [], 0)


def test_the_same_key_returns_the_first_event_and_writes_nothing(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = _publish("1", key="thing:1")
        again = _publish("2", key="thing:1")
    assert again == first
    assert len(callbacks) == 1
    assert list(OutboxEvent.objects.values_list("id", "payload")) == [(first, {"n": "1"})]
    assert SEEN == [("count", "1"), ("audit", "1")]


def test_redelivery_runs_each_handler_once_and_retries_only_the_failed_one():
    event_id = _publish("1")  # no commit in this test: the callback is never run
    BROKEN.add("audit")
    failures = outbox.event_deliver(event_id=event_id)
    assert [name for name, _exc in failures] == ["apps.core.tests.test_outbox.thing_audit"]
    assert SEEN == [("count", "1")]
    event = OutboxEvent.objects.get()
    assert (event.status, event.last_error) == (
        "pending", "apps.core.tests.test_outbox.thing_audit: RuntimeError: audit is down",
    )  # fmt: skip
    BROKEN.clear()
    assert outbox.event_deliver(event_id=event_id) == []
    assert outbox.event_deliver(event_id=event_id) == []
    assert SEEN == [("count", "1"), ("audit", "1")]
    assert OutboxEvent.objects.get().status == "done"
    assert OutboxReceipt.objects.filter(event_id=event_id).count() == 2


def test_a_handler_failing_n_times_makes_a_dead_letter_that_re_enqueues_the_event(
    settings, django_capture_on_commit_callbacks
):
    from apps.core import deadletters

    event_id = _publish("1")
    BROKEN.add("audit")
    last = settings.OUTBOX_MAX_ATTEMPTS - 1
    result = outbox_deliver_task.apply(
        args=[str(event_id)], task_id=str(event_id), retries=last, throw=False
    )
    assert result.failed()
    event = OutboxEvent.objects.get()
    assert (event.status, event.last_error) == ("dead", "RuntimeError: audit is down")
    letter = DeadLetter.objects.get()
    assert (letter.task_id, letter.task_name, letter.attempts) == (
        str(event_id), outbox.DELIVER_TASK, settings.OUTBOX_MAX_ATTEMPTS,
    )  # fmt: skip
    BROKEN.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deadletters.dead_letter_retry(dead_letter_id=letter.pk, actor_id=1)
    assert OutboxEvent.objects.get().status == "done"
    assert SEEN == [("count", "1"), ("audit", "1")]


def test_runs_are_counted_first_and_lost_runs_end_in_a_dead_letter():
    """A task that killed its worker twice (started, never finished) with max_retries=1."""
    task_id = str(uuid.uuid4())
    begin = {"task_id": task_id, "task_name": "t.crashy", "retries": 0, "max_retries": 1}
    assert taskruns.run_begin(**begin) is True
    assert TaskRun.objects.get().started == 1  # committed before the body runs
    assert taskruns.run_begin(**begin) is True  # one lost run: still within max_retries
    assert taskruns.run_begin(**begin) is False  # two lost runs: a dead letter, not a run
    assert not TaskRun.objects.exists()
    letter = DeadLetter.objects.get()
    assert (letter.task_id, letter.task_name, letter.attempts) == (task_id, "t.crashy", 2)
    assert letter.exception == "WorkerLost: the task's worker died in 2 of its runs"


def test_retries_are_finished_runs_and_not_lost_ones():
    task_id = str(uuid.uuid4())
    for retries in range(4):
        assert taskruns.run_begin(
            task_id=task_id, task_name="t.slow", retries=retries, max_retries=3
        )
        taskruns.run_retry(task_id=task_id, when=10)
    run = TaskRun.objects.get()
    assert (run.started, run.finished) == (4, 4)
    assert not DeadLetter.objects.exists()


def test_a_lost_run_of_an_outbox_event_makes_the_event_dead():
    """One run fails and retries, the retry kills its worker twice: three failures > 2."""
    event_id = _publish("1")
    begin = {"task_id": str(event_id), "task_name": outbox.DELIVER_TASK, "max_retries": 2}
    assert taskruns.run_begin(**begin, retries=0)
    taskruns.run_retry(task_id=str(event_id), when=0)
    assert taskruns.run_begin(**begin, retries=1)  # killed
    assert taskruns.run_begin(**begin, retries=1)  # redelivered, killed again
    assert not taskruns.run_begin(**begin, retries=1)
    event = OutboxEvent.objects.get()
    assert (event.status, event.attempts) == ("dead", 4)
    assert DeadLetter.objects.get().task_id == str(event_id)
    assert SEEN == []


def test_a_message_of_an_event_already_done_is_skipped():
    event_id = _publish("1")
    outbox.event_mark_done(event_id=event_id)
    assert not taskruns.run_begin(
        task_id=str(event_id), task_name=outbox.DELIVER_TASK, retries=0, max_retries=4
    )
    assert not TaskRun.objects.exists()


def test_the_sweeper_sends_again_only_what_is_pending_and_old(django_capture_on_commit_callbacks):
    old, recent, done = _publish("old"), _publish("recent"), _publish("done")
    outbox.event_mark_done(event_id=done)
    long_ago = timezone.now() - timedelta(minutes=10)
    OutboxEvent.objects.filter(pk__in=[old, done]).update(sent_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.events_sweep(older_than_seconds=300) == 1
    assert SEEN == [("count", "old"), ("audit", "old")]
    assert dict(OutboxEvent.objects.values_list("id", "status")) == {
        old: "done", recent: "pending", done: "done",
    }  # fmt: skip


def test_enqueue_on_commit_sends_the_task_under_the_event_id(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_id = enqueue_on_commit(note_task, "7")
        assert SEEN == []
    assert SEEN == [("task", "7")]
    event = OutboxEvent.objects.get()
    assert (event.id, event.topic, event.status) == (event_id, "core.task", "done")
    assert event.payload == {"task": note_task.name, "args": ["7"], "kwargs": {}}


def test_prune_forgets_done_events_and_their_receipts_only():
    old_done, recent_done, old_pending = _publish("1"), _publish("2"), _publish("3")
    for event_id in (old_done, recent_done):
        assert outbox.event_deliver(event_id=event_id) == []
    OutboxEvent.objects.filter(pk__in=[old_done, old_pending]).update(
        done_at=timezone.now() - timedelta(days=8), created_at=timezone.now() - timedelta(days=8)
    )
    assert outbox.events_prune(older_than_days=7) == 1
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == {recent_done, old_pending}
    assert set(OutboxReceipt.objects.values_list("event_id", flat=True)) == {recent_done}


def test_the_workbench_lists_events_read_only(client):
    from django.contrib.auth import get_user_model

    _publish("1")
    client.force_login(get_user_model().objects.create_superuser("13800000009", password="pw"))
    response = client.get("/admin/core/outboxevent/?status=pending")
    assert response.status_code == 200
    assert "test.thing_happened" in response.content.decode()
    assert client.get("/admin/core/outboxevent/add/").status_code == 403
