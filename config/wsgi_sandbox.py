"""WSGI entry point for the sandbox that plays the carrier and payment providers."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.sandbox")

application = get_wsgi_application()
