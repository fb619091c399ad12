"""Settings for the gunicorn processes of the two-process tests: test settings, test URLs."""

from config.settings.test import *  # noqa: F403

ROOT_URLCONF = "apps.gateway.tests.urls"
