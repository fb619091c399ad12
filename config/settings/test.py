"""Settings for the test suite: the same services as production, tuned for speed."""

import os

from .base import *  # noqa: F403
from .base import REDIS_URL as _BASE_REDIS_URL
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests that need a real worker start one and switch this off for themselves.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CARRIER_TIMEOUT_SECONDS = env.float("CARRIER_TIMEOUT_SECONDS", default=2.0)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# A test's campaigns are rolled back behind the process's memory of them: tests read them fresh;
# the purchase statement test and the marketing cache test turn the memory on for themselves.
MARKETING_CAMPAIGNS_CACHE_SECONDS = 0.0

# Each xdist worker gets its own Redis database (10, 11, ...) so that flushing it between
# tests cannot disturb another worker.
if _BASE_REDIS_URL:
    from urllib.parse import urlsplit, urlunsplit

    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    _parts = urlsplit(_BASE_REDIS_URL)
    REDIS_URL = urlunsplit(_parts._replace(path=f"/{10 + int(_worker[2:] or 0)}"))
