"""Test bootstrap (``-p tests.database_plugin``): the embedded PostgreSQL when DATABASE_URL is unset.

Loaded before pytest-django reads the settings, it starts the server and exports DATABASE_URL
(xdist workers inherit it); when the run ends it stops the server if this run started it.
"""

from __future__ import annotations

import os

import pytest

_started = False


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    global _started
    # Importing the config package loads the Celery app, which defaults DJANGO_SETTINGS_MODULE
    # to the base settings; pytest-django must still pick the test settings from the ini.
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE")
    from config.embedded import database_ensure

    if settings_module is None:
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    _started = database_ensure()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _started:
        from config.embedded import stop_embedded

        stop_embedded()
