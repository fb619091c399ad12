"""The in-process schedule runs every beat task (used when no broker is configured)."""

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_runs_every_scheduled_task_once():
    call_command("run_schedule", "--once")


@pytest.mark.django_db
def test_refuses_an_unknown_task(settings):
    settings.CELERY_BEAT_SCHEDULE = {"x": {"task": "no.such.task", "schedule": 1.0}}
    with pytest.raises(CommandError):
        call_command("run_schedule", "--once")
