"""Settings for the sandbox process that plays the carrier (and later the payment providers).

It is the outside world: its own process, port and database (``<name>_sandbox``), and it
imports nothing from ``apps`` but ``apps.sandbox``.
"""

from config.embedded import with_database_name

from .base import *  # noqa: F403
from .base import DATABASE_URL, DATABASES, env

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "apps.sandbox",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]
ROOT_URLCONF = "apps.sandbox.urls"
WSGI_APPLICATION = "config.wsgi_sandbox.application"
STATICFILES_DIRS = []

_main_db = DATABASES["default"]["NAME"]
SANDBOX_DATABASE_URL = env.str("SANDBOX_DATABASE_URL", default="") or with_database_name(
    DATABASE_URL, f"{_main_db}_sandbox"
)
DATABASES = {"default": env.db_url_config(SANDBOX_DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = 60

# Where the sandbox sends delivery reports when a request names no callback, and the secret
# it signs them with (the platform's CARRIER_SHARED_SECRET).
SANDBOX_SHARED_SECRET = env.str("CARRIER_SHARED_SECRET", default="sandbox-shared-secret")
SANDBOX_API_KEY = env.str("CARRIER_API_KEY", default="sandbox-key")
LANGUAGE_CODE = "zh-hans"
