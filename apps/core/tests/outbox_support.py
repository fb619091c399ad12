"""Test helper: run what the outbox hands on after commit, with or without the Celery tasks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from django.db import DEFAULT_DB_ALIAS, connections

from apps.core import outbox


def _outbox_topic(func: object) -> str | None:
    """The topic of an outbox event's after-commit send; None for any other on-commit work."""
    if isinstance(func, partial) and func.func is outbox._send:
        return str(func.args[1])
    return None


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
                topic = _outbox_topic(func)
                if topic is None and not tasks:
                    kept.append(entry)
                elif tasks or topic != outbox.TASK_TOPIC:
                    func()
        connection.run_on_commit.extend(kept)
