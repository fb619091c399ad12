"""Test helper: run what the outbox hands on after commit, without the other on-commit work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


def _is_outbox(func: object) -> bool:
    return getattr(getattr(func, "func", func), "__module__", "").startswith("apps.core.outbox")


@contextmanager
def outbox_handled(*, tasks: bool = False) -> Iterator[None]:
    """At the end of the block, run the outbox's dispatch of the events the block's
    transactions published (and of what their handlers publish in turn), as a worker would
    after commit. Other on-commit work (Celery tasks: carrier calls, couriers) runs only with
    ``tasks=True``; otherwise it is dropped, as if the broker had not delivered it yet."""
    connection = connections[DEFAULT_DB_ALIAS]
    start = len(connection.run_on_commit)
    try:
        yield
    finally:
        while len(connection.run_on_commit) > start:
            pending = connection.run_on_commit[start:]
            del connection.run_on_commit[start:]
            for _savepoints, func, _robust in pending:
                if tasks or _is_outbox(func):
                    func()
