"""The Celery app; settings come from Django settings under the CELERY_ prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

# Every task counts its runs before they start (apps.core.taskruns): none loops forever.
app = Celery("carrierhub", task_cls="apps.core.taskruns:CountedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
