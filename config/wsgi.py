"""WSGI entry point for the platform (granian or gunicorn ``config.wsgi:application``).

Django's application sits behind the anonymous page cache (``apps.catalog.edge``), which
answers cached mall pages before Django's middleware and URL routing.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

django_application = get_wsgi_application()

from apps.catalog.edge import PageCacheApp  # noqa: E402 - needs the settings configured above

application = PageCacheApp(django_application)
