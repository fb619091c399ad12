"""``manage.py run_schedule``: run the Celery beat schedule in this process, for the zero-config run.

With a broker, ``celery -A config beat`` and workers do this. Without one (``make run``'s
default), this command calls each scheduled task in-process on its interval, so unpaid
orders still expire and lost payment notifications are still recovered.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the periodic tasks of CELERY_BEAT_SCHEDULE in-process (no broker needed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Run every task once and exit.")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        schedule: dict[str, tuple[str, float]] = {
            name: (str(entry["task"]), float(entry["schedule"]))  # type: ignore[arg-type]
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        }
        current_app.loader.import_default_modules()  # autodiscovery is lazy
        unknown = [task for task, _ in schedule.values() if task not in current_app.tasks]
        if unknown:
            raise CommandError(f"unknown tasks in CELERY_BEAT_SCHEDULE: {', '.join(unknown)}")
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        due = dict.fromkeys(schedule, 0.0)
        while not stopping:
            now = time.monotonic()
            for name, (task, every) in schedule.items():
                if now >= due[name]:
                    due[name] = now + every
                    close_old_connections()
                    try:
                        result = current_app.tasks[task].apply().get(propagate=True)
                        if result:  # quiet when there was nothing to do
                            logger.info("%s: %s", name, result)
                    except Exception:
                        logger.exception("scheduled task %s failed", name)
            if once:
                return
            time.sleep(1.0)
