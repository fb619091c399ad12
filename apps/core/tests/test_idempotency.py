"""Idempotency keys: one effect per key, the first result for repeats, 409 for a changed body."""

import threading

import pytest
from django.db import connection, transaction

from apps.core.errors import IdempotencyConflict
from apps.core.idempotency import idempotency_claim, idempotency_complete
from apps.core.models import AuditEvent, IdempotencyRecord


def _operation(key: str, payload: dict) -> dict:
    """A stand-in service: one audit event per effect, guarded by the key."""
    with transaction.atomic():
        first = idempotency_claim(scope="test", key=key, payload=payload)
        if first is not None:
            return first
        event = AuditEvent.objects.create(action="t", object_type="t", object_id=key)
        result = {"event_id": event.pk}
        idempotency_complete(scope="test", key=key, response=result)
        return result


@pytest.mark.django_db
def test_repeat_returns_first_result_and_does_nothing_again():
    first = _operation("k1", {"a": 1})
    again = _operation("k1", {"a": 1})
    assert again == first
    assert AuditEvent.objects.filter(object_type="t").count() == 1


@pytest.mark.django_db
def test_same_key_with_other_payload_is_a_conflict():
    _operation("k2", {"a": 1})
    with pytest.raises(IdempotencyConflict):
        _operation("k2", {"a": 2})
    assert AuditEvent.objects.filter(object_type="t").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_have_one_effect():
    results: list[dict] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(_operation("race", {"x": 1}))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert len({r["event_id"] for r in results}) == 1
    # Filtered: the session's live server may still be writing other tests' late callbacks.
    assert AuditEvent.objects.filter(object_type="t", object_id="race").count() == 1
    assert IdempotencyRecord.objects.filter(scope="test", key="race").count() == 1
