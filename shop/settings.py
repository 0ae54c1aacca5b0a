"""Settings of the shop, read from the environment in this one place (django-environ).

Every integration is switched on by its URL and falls back to an embedded default: no
``DATABASE_URL`` starts the embedded PostgreSQL under ``var/``, no ``REDIS_URL`` the embedded Redis
(``shop.core.embedded``). ``.env.example`` lists every variable; the README explains them.

``DJANGO_ENV`` is ``development`` (default), ``test`` (set by pytest) or ``production``, where the
insecure development defaults are refused at start-up.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")  # values already in the environment win

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test"

_INSECURE_KEY = "django-insecure-development-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="" if PRODUCTION else _INSECURE_KEY)
DEBUG = env.bool("DEBUG", default=not PRODUCTION and not TESTING)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if PRODUCTION:
    # Refuse to start with a development default rather than run insecurely.
    if not SECRET_KEY or SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("production needs SECRET_KEY: 50 or more random characters")
    if DEBUG:
        raise ImproperlyConfigured("production refuses DEBUG=true")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("production needs ALLOWED_HOSTS")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not env.str(name, default=""):
            raise ImproperlyConfigured(f"production needs {name}: the embedded services are for development")

# bench/ only: routes a bare view (/bench/bare/) used as the ceiling of a server set-up
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)

SITE_NAME = env.str("SITE_NAME", default="The Shop")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# 10% unless the seller's or the category's rate says otherwise (sellers.selectors.commission_rate_for)
PLATFORM_COMMISSION_RATE = Decimal(env.str("PLATFORM_COMMISSION_RATE", default="0.10"))
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="EUR")
# Sales wait this long (returns, chargebacks) before they are paid out to the seller (sellers.services.payouts_run)
SELLER_PAYOUT_HOLD_DAYS = env.int("SELLER_PAYOUT_HOLD_DAYS", default=7)

# --- applications -----------------------------------------------------------------------------

DOMAIN_APPS = [
    "shop.core",
    "accounts",
    "payments",
    "sellers",
    "catalog",
    "inventory",
    "promotions",
    "cart",
    "orders",
    "reviews",
    "search",
    "recommendations",
    "notifications",
    "storefront",
    "backoffice",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    *DOMAIN_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.core.context_processors.site",
                "storefront.context_processors.navigation",
            ],
        },
    },
]

# --- data stores ------------------------------------------------------------------------------

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from shop.core import embedded

    DATABASES = {"default": embedded.postgres_settings()}
# Persistent connections (checked before reuse) rather than a pool: gunicorn's sync workers and
# Celery's prefork children each hold one connection for many requests, for ten minutes: a new
# PostgreSQL backend pays for its first reads of each page and catalog entry (the same search: 41 ms
# in a new session, 19 ms after; at one minute the search benchmark's p95 was 104 ms, at ten 83 ms).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
# Planner settings for each session, for a database whose working set is in memory: a random read
# costs about what a sequential one does (PostgreSQL's default of 4x made the search choose a
# sequential scan, or an index bitmap of 180,000 prices, over the text index's 20,000 matches), and
# JIT compilation (100-250 ms on the search's large estimates) never pays back on queries of a few
# milliseconds.
_session_options = env.str("DATABASE_SESSION_OPTIONS", default="-c jit=off -c random_page_cost=1.1")
# after any options DATABASE_URL carries (?options=...), which keep their place
DATABASES["default"]["OPTIONS"]["options"] = " ".join(
    part for part in (DATABASES["default"]["OPTIONS"].get("options", ""), _session_options) if part
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL:
    from shop.core import embedded

    REDIS_URL = embedded.redis_url()


def _redis_db(url: str, db: int) -> str:
    """The same Redis server with another database number (tests keep off the development data)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


if TESTING:
    REDIS_URL = _redis_db(REDIS_URL, env.int("REDIS_TEST_DB", default=15))

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "shop",
        "TIMEOUT": 300,
        "OPTIONS": {
            # A cache outage must not take pages down: errors count as misses.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            # Fail at once when Redis is down rather than retrying with backoff on every call:
            # pages fall back to the database and the cart and flash-sale paths say so.
            "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)},
        },
    },
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# Each web process keeps its own copies of the product pages it served, up to this many MB of page
# text, and serves one without asking Redis while Redis announces no change of its versions or stock
# (storefront.tracking: a thread per process listening to Redis's key invalidations). Off in tests
# but those of the tracking itself: a test that writes and reads back must not wait for a message.
STOREFRONT_PAGE_COPIES_MB = env.int("STOREFRONT_PAGE_COPIES_MB", default=64)
STOREFRONT_PAGE_TRACKING = env.bool("STOREFRONT_PAGE_TRACKING", default=not TESTING)
DJANGO_REDIS_LOGGER = "shop.cache"

SESSION_ENGINE = "django.contrib.sessions.backends.db"  # sessions survive a Redis outage
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)

# --- accounts and security --------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "storefront:home"
LOGOUT_REDIRECT_URL = "storefront:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # verifies (and upgrades) older hashes only
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a day: long enough to find the email, short enough to expire
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=3)

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the small storefront scripts read it for fetch() writes
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "shop.core.views.csrf_failure"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Everything the pages load comes from the shop itself: no CDN, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *env.list("CSP_IMG_SRC", default=[])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Request size limits: a JSON body over 1 MiB or a form of more than 1,000 fields is refused (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- rate limits (API.md: RATE_LIMIT_<NAME> in the environment; RATE_LIMITS_ENABLED=false for load tests)

RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMITS = {
    # failed log-ins per account and per client address; a success does not count
    "login": env.str("RATE_LIMIT_LOGIN", default="5/m"),
    "login_ip": env.str("RATE_LIMIT_LOGIN_IP", default="30/m"),
    "register": env.str("RATE_LIMIT_REGISTER", default="10/h"),
    "password_reset": env.str("RATE_LIMIT_PASSWORD_RESET", default="5/h"),
    "email_verification": env.str("RATE_LIMIT_EMAIL_VERIFICATION", default="5/h"),  # "send the link again"
    "cart_add": env.str("RATE_LIMIT_CART_ADD", default="60/m"),  # per signed-in buyer (or guest cart)
    "cart_add_ip": env.str("RATE_LIMIT_CART_ADD_IP", default="120/m"),  # per client address
    "review_create": env.str("RATE_LIMIT_REVIEW_CREATE", default="10/h"),  # reviews written per buyer
}
RATELIMIT_ENABLE = RATE_LIMITS_ENABLED
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True  # a Redis outage must not lock every buyer out
# The client address for per-IP limits. Behind a proxy set RATE_LIMIT_IP_HEADER=HTTP_X_FORWARDED_FOR
# (the proxy must overwrite it); by default the socket's peer address is trusted, never a header.
RATELIMIT_IP_META_KEY = env.str("RATE_LIMIT_IP_HEADER", default="REMOTE_ADDR")

# --- API --------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",  # simplejwt's, with errors in API.md's format
        "rest_framework.authentication.SessionAuthentication",  # enforces CSRF for cookie clients
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shop.core.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "shop.core.api.PageNumberPagination",
    "PAGE_SIZE": 24,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "The shop API",
    "DESCRIPTION": "The JSON API of the shop, version 1. Errors are {error, detail, fields}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1/",
}

# --- Celery -----------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves it for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing from a request must not hang when the broker is down: give up at once and let the
# outbox re-delivery pick the event up later.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BEAT_SCHEDULE = {
    "outbox-redeliver": {
        "task": "shop.core.tasks.outbox_redeliver_task",
        "schedule": timedelta(seconds=30),
    },
    "catalog-images-process-pending": {  # images whose processing task was lost (broker down, worker killed)
        "task": "catalog.tasks.product_images_process_pending_task",
        "schedule": timedelta(minutes=5),
    },
    "inventory-reservations-expire": {  # stock held by abandoned checkouts goes back on sale
        "task": "inventory.tasks.reservations_expire_task",
        "schedule": timedelta(minutes=1),
    },
    "inventory-flash-sale-reconcile": {  # the Redis token buckets follow the database's stock
        "task": "inventory.tasks.flash_sale_reconcile_task",
        "schedule": timedelta(minutes=1),
    },
    "payments-reconcile": {  # payments left unknown by a timeout are settled by asking the gateway
        "task": "payments.tasks.payments_reconcile_task",
        "schedule": timedelta(minutes=1),
    },
    "reviews-photos-process-pending": {  # review photos whose processing task was lost
        "task": "reviews.tasks.review_photos_process_pending_task",
        "schedule": timedelta(minutes=5),
    },
    "reviews-seller-ratings-refresh": {  # fulfilment speed changes as orders ship, without a review
        "task": "reviews.tasks.seller_ratings_refresh_all_task",
        "schedule": crontab(hour=4, minute=7),
    },
    "orders-checkouts-expire": {  # unpaid checkouts past their time: stock and coupon use released
        "task": "orders.tasks.checkouts_expire_task",
        "schedule": timedelta(minutes=1),
    },
    "orders-resume": {  # payments a dead worker or a lost answer left in flight; refunds not yet issued
        "task": "orders.tasks.orders_resume_task",
        "schedule": timedelta(minutes=1),
    },
    "sellers-payouts-run": {  # each seller's balance past the hold, paid every two weeks
        "task": "sellers.tasks.sellers_payouts_run_task",
        "schedule": timedelta(days=14),
    },
    "sellers-payouts-settle-pending": {  # payouts whose transfer had no answer yet
        "task": "sellers.tasks.sellers_payouts_settle_pending_task",
        "schedule": timedelta(hours=1),
    },
    "outbox-prune": {
        "task": "shop.core.tasks.outbox_prune_task",
        "schedule": crontab(hour=3, minute=17),
    },
}
OUTBOX_REDELIVER_AFTER = timedelta(seconds=20)  # a relay that has not run by then probably never will
OUTBOX_MAX_ATTEMPTS = 20  # then the event waits for an operator (admin lists it as failed)
OUTBOX_KEEP_DELIVERED = timedelta(days=14)

# --- payments -----------------------------------------------------------------------------------

# Gateways tried in this order for each charge (failover on a gateway error): sandbox, stripe, adyen.
PAYMENT_GATEWAYS = env.list("PAYMENT_GATEWAYS", default=["sandbox"])
PAYMENT_PAYOUT_GATEWAY = env.str("PAYMENT_PAYOUT_GATEWAY", default="sandbox")  # seller transfers
PAYMENT_GATEWAY_TIMEOUT = env.float("PAYMENT_GATEWAY_TIMEOUT", default=10.0)  # seconds; then the outcome is unknown
PAYMENT_RECONCILE_AFTER = env.int("PAYMENT_RECONCILE_AFTER", default=60)  # seconds an intent stays open first
# Circuit breaker per gateway: open when, over the last one or two windows, at least MIN_CALLS calls
# were made and ERROR_RATE of them failed; skip the gateway for COOLDOWN seconds, then let one probe in.
PAYMENT_BREAKER_WINDOW = env.int("PAYMENT_BREAKER_WINDOW", default=60)
PAYMENT_BREAKER_MIN_CALLS = env.int("PAYMENT_BREAKER_MIN_CALLS", default=5)
PAYMENT_BREAKER_ERROR_RATE = env.float("PAYMENT_BREAKER_ERROR_RATE", default=0.5)
PAYMENT_BREAKER_COOLDOWN = env.int("PAYMENT_BREAKER_COOLDOWN", default=30)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
ADYEN_API_KEY = env.str("ADYEN_API_KEY", default="")
ADYEN_MERCHANT_ACCOUNT = env.str("ADYEN_MERCHANT_ACCOUNT", default="")
ADYEN_ENVIRONMENT = env.str("ADYEN_ENVIRONMENT", default="test")  # or "live" with ADYEN_LIVE_ENDPOINT_PREFIX
ADYEN_LIVE_ENDPOINT_PREFIX = env.str("ADYEN_LIVE_ENDPOINT_PREFIX", default="")
ADYEN_CHECKOUT_URL = env.str("ADYEN_CHECKOUT_URL", default="")  # replaces the SDK's Checkout API base URL

# --- inventory ----------------------------------------------------------------------------------

INVENTORY_RESERVATION_TTL = timedelta(minutes=env.int("INVENTORY_RESERVATION_TTL_MINUTES", default=10))
# Pages show stock from a write-through Redis copy; this bounds how long an entry lives unrefreshed.
INVENTORY_AVAILABILITY_CACHE_TTL = env.int("INVENTORY_AVAILABILITY_CACHE_TTL", default=300)

# --- cart ---------------------------------------------------------------------------------------

CART_MAX_LINE_QUANTITY = env.int("CART_MAX_LINE_QUANTITY", default=20)
CART_MAX_LINES = env.int("CART_MAX_LINES", default=50)
# Carts of business buyers, or worth at least this much, are also written through to PostgreSQL.
CART_DURABLE_MIN_VALUE = Decimal(env.str("CART_DURABLE_MIN_VALUE", default="500.00"))

# --- reviews ------------------------------------------------------------------------------------

# Whole words that hold a review for a moderator instead of publishing it (reviews.moderation),
# besides links and repeated text. Spam vocabulary by default; operators add their own.
REVIEWS_BANNED_WORDS = env.list("REVIEWS_BANNED_WORDS", default=["viagra", "cialis", "casino", "escort", "porn"])

# --- orders -------------------------------------------------------------------------------------

# How long a checkout holds its stock for the buyer to pay (its reservation's TTL).
CHECKOUT_TTL = timedelta(
    minutes=env.int("CHECKOUT_TTL_MINUTES", default=INVENTORY_RESERVATION_TTL // timedelta(minutes=1))
)
# A payment in flight longer than this is settled by orders_resume (asking the gateway, never charging).
CHECKOUT_PAYMENT_STALE_AFTER = timedelta(seconds=env.int("CHECKOUT_PAYMENT_STALE_AFTER_SECONDS", default=120))
# Stock of a checkout whose payment is in flight or unknown stays held this long (extended while unknown).
CHECKOUT_PAYMENT_HOLD = timedelta(minutes=env.int("CHECKOUT_PAYMENT_HOLD_MINUTES", default=30))
# The tax calculator (orders/tax.py): rule-based by default; a tax service's adapter plugs in here.
TAX_CALCULATOR = env.str("TAX_CALCULATOR", default="orders.tax.RuleBasedTax")

# --- search -------------------------------------------------------------------------------------

SEARCH_BACKEND = env.str("SEARCH_BACKEND", default="postgres")
ELASTICSEARCH_URL = env.str("ELASTICSEARCH_URL", default="")
SEARCH_ELASTICSEARCH_INDEX = env.str("SEARCH_ELASTICSEARCH_INDEX", default="shop-products")  # the alias
SEARCH_ELASTICSEARCH_REPLICAS = env.int("SEARCH_ELASTICSEARCH_REPLICAS", default=1)
SEARCH_ELASTICSEARCH_REFRESH = False  # the integration tests set "wait_for"
if SEARCH_BACKEND not in {"postgres", "elasticsearch"}:
    raise ImproperlyConfigured(f"SEARCH_BACKEND must be postgres or elasticsearch, not {SEARCH_BACKEND!r}")
if SEARCH_BACKEND == "elasticsearch" and not ELASTICSEARCH_URL:
    raise ImproperlyConfigured("SEARCH_BACKEND=elasticsearch needs ELASTICSEARCH_URL")
if ELASTICSEARCH_URL:
    INSTALLED_APPS += ["django_elasticsearch_dsl"]
    ELASTICSEARCH_DSL = {"default": {"hosts": ELASTICSEARCH_URL}}
    ELASTICSEARCH_DSL_AUTOSYNC = False  # documents follow the outbox (search/handlers.py), not model signals
    ELASTICSEARCH_DSL_AUTO_REFRESH = False
    ELASTICSEARCH_DSL_SIGNAL_PROCESSOR = "django_elasticsearch_dsl.signals.BaseSignalProcessor"
# How results are ranked for relevance (search/backends/postgres.py explains each term): text rank
# with the tsvector weights of title, brand and category, attributes, description ([D, C, B, A] as
# PostgreSQL orders them), times boosts for popularity (sales velocity, views), the seller's and
# product's rating, and paid placement while it runs.
SEARCH_RANKING = {
    "field_weights": [0.1, 0.2, 0.4, 1.0],
    "sales_velocity": 0.3,
    "views": 0.05,
    "rating": 0.3,
    "seller_rating": 0.1,  # the seller's rating (reviews): a small lift for well-rated sellers
    "sponsored": 1.5,
}
# A query of several words that finds fewer products than this with every word is searched again with
# any of them (those matching more words first), and the page says so.
SEARCH_RELAXED_BELOW = env.int("SEARCH_RELAXED_BELOW", default=10)

# --- static, media, email ---------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION  # serve straight from static/ without collectstatic in development
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")  # "s3": product images on S3 (django-storages)
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=None),  # the CDN in front of the bucket
            "querystring_auth": False,  # public product images: plain, cacheable URLs
            "file_overwrite": False,
            # Renditions carry a hash of their content in their names: cache them for a year.
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}")

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://" + str(BASE_DIR / "var" / "mail"))
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="The Shop <shop@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
