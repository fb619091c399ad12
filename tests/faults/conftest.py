"""Fault-injection tests (marker ``faults``): real servers broken on purpose, see
docs/reliability.md. Every test here is marked ``faults`` and runs in the default suite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from config.celery import app


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Send tasks from this process through ``url`` (playing Celery beat for the servers)."""
    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def use(**conf: object) -> None:
        app.conf.update(**conf)
        app._pool = None
        app.amqp._producer_pool = None

    use(broker_url=url, task_always_eager=False)
    try:
        yield
    finally:
        use(**previous)
