"""Test helper: run what the outbox hands on after commit, with or without the Celery tasks."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


def _runs(func: object, *, tasks: bool) -> bool:
    """Whether to run this on-commit callback: an outbox event's dispatch, and a task event's
    only with ``tasks`` (other on-commit work is left to its own test)."""
    if not getattr(func, "__module__", "").startswith("apps.core.outbox"):
        return tasks
    try:
        topic = inspect.getclosurevars(func).nonlocals.get("topic")  # type: ignore[arg-type]
    except TypeError:
        return True
    return tasks or topic != "core.task"


@contextmanager
def outbox_handled(*, tasks: bool = False) -> Iterator[None]:
    """At the end of the block, run the outbox's dispatch of the events the block's
    transactions published (and of what their handlers publish in turn), as a worker would
    after commit. Task events (carrier calls, couriers) run only with ``tasks=True``;
    otherwise they stay pending, as if no worker had taken them yet."""
    connection = connections[DEFAULT_DB_ALIAS]
    start = len(connection.run_on_commit)
    kept = []  # other on-commit work stays for an outer capture (or the test) to run
    try:
        yield
    finally:
        while len(connection.run_on_commit) > start:
            pending = connection.run_on_commit[start:]
            del connection.run_on_commit[start:]
            for entry in pending:
                func = entry[1]
                if not getattr(func, "__module__", "").startswith("apps.core.outbox"):
                    if tasks:
                        func()
                    else:
                        kept.append(entry)
                elif _runs(func, tasks=tasks):
                    func()
        connection.run_on_commit.extend(kept)
