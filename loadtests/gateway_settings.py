"""Settings for ``loadtests.gateway``: the platform's, plus two bench-only views."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "loadtests.gateway_urls"
