"""Extagram settings: one module, read from environment variables.

Every variable has a safe default for the embedded mode (SQLite, media on local
disk, in-process cache). `.env.example` documents each one.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envstr(name, default=""):
    return os.environ.get(name, default)


def envbool(name, default="false"):
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default):
    value = os.environ.get(name, str(default)).strip()
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name, default=""):
    """Read NAME, or the file named by NAME_FILE (Docker/compose secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {e.strerror}") from None
    return os.environ.get(name, default)


PRODUCTION = envstr("EXTAGRAM_ENV", "development") == "production"
DEBUG = envbool("DEBUG", "false")
ROLE = envstr("EXTAGRAM_ROLE", "all")
if ROLE not in ("all", "app", "upload"):
    raise ImproperlyConfigured(f"EXTAGRAM_ROLE must be all, app or upload, not {ROLE!r}")
VERSION = envstr("EXTAGRAM_VERSION", "dev")

DATA_DIR = Path(envstr("EXTAGRAM_DATA_DIR", str(BASE_DIR / "data")))


def _secret_key():
    key = envsecret("SECRET_KEY")
    if key:
        weak = len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure")
        if PRODUCTION and weak:
            raise ImproperlyConfigured("SECRET_KEY is too weak for production (50+ random chars).")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("Production needs SECRET_KEY or SECRET_KEY_FILE.")
    # Embedded mode: one random key kept in the data folder, so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _secret_key_fallbacks():
    """Earlier keys that signatures may still carry (whitespace-separated): sessions,
    password-reset links and signed cookies of a key being rotated out stay valid. On a
    swarm, `extagram-ops --swarm STACK rotate-secret secret_key` mounts the previous key at
    the file the stack names; until the first rotation there is no such file: no keys."""
    path = os.environ.get("SECRET_KEY_FALLBACKS_FILE")
    if path and not Path(path).exists():
        return []
    return envsecret("SECRET_KEY_FALLBACKS").split()


SECRET_KEY_FALLBACKS = _secret_key_fallbacks()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "extagram.core.admin.ExtagramAdminConfig",  # django.contrib.admin, see its docstring
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "extagram.core",
    "extagram.accounts",
    "extagram.posts",
    "extagram.uploads",
    "extagram.social",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    "extagram.core.middleware.TrustedProxyMiddleware",
    "extagram.core.middleware.RequestIdMiddleware",
    # Security headers on every response, those of the middleware below included.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "extagram.core.roles.RoleMiddleware",
    "extagram.posts.middleware.MediaSweepMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "extagram.uploads.middleware.UploadSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "extagram.accounts.middleware.AuthenticationMiddleware",
    "extagram.core.middleware.PrivateForSignedInMiddleware",
    "extagram.core.middleware.OutOfRangeNumberMiddleware",
    "extagram.core.middleware.VanishedAccountMiddleware",
    "extagram.core.middleware.FormErrorsAre400Middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "extagram.urls"
WSGI_APPLICATION = "extagram.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "extagram" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # our {% url %}: Django's, with each URL reversed once per process
            "builtins": ["extagram.core.reversing"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "extagram.core.context_processors.site",
                "extagram.social.context_processors.social",
            ],
        },
    },
]

# Database: SQLite in the data folder unless DATABASE_URL or DB_* point elsewhere.


def _database():
    if envstr("DATABASE_URL"):
        db = dj_database_url.parse(envstr("DATABASE_URL"))
    elif envstr("DB_HOST"):
        db = {
            "ENGINE": "django.db.backends.mysql",
            "HOST": envstr("DB_HOST"),
            "PORT": envstr("DB_PORT", "3306"),
            "NAME": envstr("DB_NAME", "extagram"),
            "USER": envstr("DB_USER", "extagram"),
            "PASSWORD": envsecret("DB_PASSWORD"),
        }
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "extagram.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    db["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", 60)
    db["CONN_HEALTH_CHECKS"] = True
    if db["ENGINE"] == "django.db.backends.mysql":
        db.setdefault("OPTIONS", {}).update(
            {
                "charset": "utf8mb4",
                # Django keeps datetimes in UTC; so does the session's clock, for the
                # database defaults that read it (posts.Post.edited_at)
                "init_command": "SET sql_mode='STRICT_TRANS_TABLES', time_zone='+00:00'",
                "connect_timeout": envint("DB_CONNECT_TIMEOUT", 3),
            }
        )
        db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and sessions: Redis when REDIS_URL is set, in-process otherwise.
# A Redis outage must not take the site down: cache errors are ignored and
# sessions are stored in the database with the cache in front.

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": envstr("CACHE_KEY_PREFIX", "extagram"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # 5,000 entries, not Django's 300: each member's home feed has post cards of its own
    # (extagram/posts/cards.py), so 300 held the cards of ~25 members and every other
    # view re-rendered its 12 (docs/performance.md, the social shape). A cached card is
    # ~1.4 KB: at most ~7 MB for the one `make run` process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
    # what a manage.py command writes shows at once (extagram.core.caching)
    LOCAL_CACHE_GENERATION_FILE = DATA_DIR / "cache-generation"
    MIDDLEWARE.insert(0, "extagram.core.caching.ClearedAfterCommandsMiddleware")

RATELIMIT_VIEW = "extagram.core.views.rate_limited"
RATELIMIT_FAIL_OPEN = True
RATELIMIT_ENABLE = envbool("RATELIMIT_ENABLE", "true")
LOGIN_RATE = envstr("LOGIN_RATE", "10/m")
SIGNUP_RATE = envstr("SIGNUP_RATE", "30/h")
UPLOAD_RATE = envstr("UPLOAD_RATE", "30/m")
SILENCED_SYSTEM_CHECKS = [
    # The in-process cache is fine for rate limits in the single-process embedded mode.
    "django_ratelimit.E003",
    "django_ratelimit.W001",
    # HSTS preload is a commitment an operator opts into (SECURE_HSTS_PRELOAD=true).
    "security.W021",
    # MariaDB keeps no unique constraint with a condition, and allauth has three: one
    # account per verified address, one address in use and one authenticator app per
    # member. The site keeps them under locks (accounts: address_lock, lock_member).
    "models.W036",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "feed"
LOGOUT_REDIRECT_URL = "feed"
# Argon2id first: new passwords use it and older hashes are re-hashed at the next
# login (Django's check_password upgrades them). Numbers: bench/logins.py.
PASSWORD_HASHERS = [
    "extagram.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Accounts: django-allauth (e-mail, verification, reset, e-mail change, TOTP).
# Handle rules live in extagram/accounts/usernames.py, applied by the adapter.
# allauth's backend takes a username or an address (the log-in form; the admin sends there);
# Django's own stays for sessions it logged in before, which name it (a session whose
# backend is not listed is signed out), and tries a log-in only after allauth's refused it.
AUTHENTICATION_BACKENDS = [
    "extagram.accounts.auth_backends.AuthenticationBackend",  # allauth's, narrowed
    "django.contrib.auth.backends.ModelBackend",
]
ACCOUNT_ADAPTER = "extagram.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "extagram.accounts.forms.LoginForm",
    "signup": "extagram.accounts.signup_form.SignupForm",
    "add_email": "extagram.accounts.email_form.AddEmailForm",
    "reset_password": "extagram.accounts.reset_form.ResetPasswordForm",
}
ACCOUNT_SIGNUP_FORM_CLASS = "extagram.accounts.forms.SignupExtraForm"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = envstr("EXTAGRAM_EMAIL_VERIFICATION", "optional")
if ACCOUNT_EMAIL_VERIFICATION not in ("mandatory", "optional", "none"):
    raise ImproperlyConfigured("EXTAGRAM_EMAIL_VERIFICATION must be mandatory, optional or none")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
# The log-in form asks ("Remember me", ticked to begin with): unticked, the session ends
# when the browser closes, for a shared computer; ticked, it lasts SESSION_COOKIE_AGE.
ACCOUNT_SESSION_REMEMBER = None
# Confirming who you are before a sensitive change (2FA settings, e-mail, deletion) takes the
# password or the second factor; allauth's default also offers a code sent by e-mail, which
# would let a mailbox alone stand in for both. allauth asks it before 2FA changes by default,
# before e-mail changes only when REAUTHENTICATION_REQUIRED: without it, a session left open
# (or stolen) could add an address, confirm it from that mailbox and reset the password to it.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# The address on file hears of every change to the account's addresses and password (and of a
# password reset), so its owner learns of a change they did not make.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Extagram] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if envbool("EXTAGRAM_TLS", "false") else "http"
ACCOUNT_LOGOUT_REDIRECT_URL = "feed"
# allauth's own limits guard password resets, e-mail changes and confirmations,
# re-authentication and two-factor codes. Log-ins and sign-ups keep django-ratelimit
# (LOGIN_RATE, SIGNUP_RATE), which lets people in while Redis is down; allauth's
# limits refuse then (they need the cache's lock). RATELIMIT_ENABLE=false: all off.
ACCOUNT_RATE_LIMITS = {"login": "", "login_failed": "", "signup": ""} if RATELIMIT_ENABLE else False
MFA_ADAPTER = "extagram.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Extagram"
EXPORT_RATE = envstr("EXPORT_RATE", "3/h")
# Two-factor codes at log-in, and deleting one's account (password and code), per member:
# allauth's default for failed log-ins per account (ACCOUNT_RATE_LIMITS' login_failed).
CONFIRM_RATE = envstr("CONFIRM_RATE", "5/5m")

# Outgoing mail. With EMAIL_HOST set: SMTP. Without: each message is written to a
# file in $EXTAGRAM_DATA_DIR/mail/ and a line is logged, so the embedded default
# needs no mail server.
EMAIL_HOST = envstr("EMAIL_HOST")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "false")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "true" if EMAIL_HOST and not EMAIL_USE_SSL else "false")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS (STARTTLS, 587) or EMAIL_USE_SSL (465): not both")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Extagram <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "extagram.accounts.mail.FileAndLogBackend"
    EMAIL_FILE_PATH = Path(envstr("EMAIL_FILE_PATH", str(DATA_DIR / "mail")))

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("ca", "Català")]
# Our catalog first (makemessages writes to the first folder), then our overrides of
# django-allauth's and Django's strings in our register ("tú"/"tu", not "usted"/"vós"),
# kept apart so that makemessages never marks them obsolete. Both outrank the installed
# apps' catalogs. extagram/core/tests/test_one_register.py checks the result.
LOCALE_PATHS = [BASE_DIR / "extagram" / "locale", BASE_DIR / "extagram" / "locale_overrides"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "extagram" / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Photos in an S3-compatible bucket when EXTAGRAM_S3_BUCKET is set (docs/swarm.md); the
# local folder MEDIA_ROOT otherwise. No keys: boto3's own chain (instance/task role).
S3_BUCKET = envstr("EXTAGRAM_S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "extagram.core.storage.PhotoBucketStorage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": envstr("EXTAGRAM_S3_ENDPOINT_URL") or None,
            "region_name": envstr("EXTAGRAM_S3_REGION") or None,
            "access_key": envsecret("EXTAGRAM_S3_ACCESS_KEY_ID") or None,
            "secret_key": envsecret("EXTAGRAM_S3_SECRET_ACCESS_KEY") or None,
            "location": envstr("EXTAGRAM_S3_PREFIX"),
            "addressing_style": envstr("EXTAGRAM_S3_ADDRESSING_STYLE") or None,
            "default_acl": None,
            "querystring_auth": False,
            "file_overwrite": True,
        },
    }
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(DATA_DIR / "media")))
# In the embedded mode the app serves its own media; in the stack nginx does.
SERVE_MEDIA = envbool("EXTAGRAM_SERVE_MEDIA", "false" if PRODUCTION else "true")

# Upload pipeline. The size limit covers the whole upload request; the proxy
# reads the same variable, so there is one place to change it.
UPLOAD_MAX_MB = envint("EXTAGRAM_UPLOAD_MAX_MB", 10)
UPLOAD_MAX_BYTES = UPLOAD_MAX_MB * 1024 * 1024
UPLOAD_MAX_PIXELS = envint("EXTAGRAM_UPLOAD_MAX_PIXELS", 50_000_000)
PHOTO_WIDTHS = (1080, 480)
# WebP beside the JPEGs (extagram/uploads/images.py): large, medium, small. 828 px is what
# a 390-414-px-wide phone at 2x picks from srcset instead of the 1080-px file.
PHOTO_WEBP_WIDTHS = (1080, 828, 480)
# Bounds on the work of one upload (extagram/uploads/budget.py): the memory limit to size
# the per-process pool from where no container limit is set, and the decode's time limit.
UPLOAD_MEMORY_LIMIT_MB = envint("EXTAGRAM_UPLOAD_MEMORY_LIMIT_MB", 256)
UPLOAD_SECONDS = envint("EXTAGRAM_UPLOAD_SECONDS", 20)
FILE_UPLOAD_HANDLERS = [
    "extagram.uploads.handlers.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# The media sweep (extagram/posts/middleware.py): every interval, the upload role (and
# the embedded default) deletes photo files no post uses that nothing touched for the
# grace period, i.e. what a crash left behind. Normal deletions remove files at once.
MEDIA_SWEEP_INTERVAL = envint("EXTAGRAM_MEDIA_SWEEP_INTERVAL", 900)
MEDIA_SWEEP_GRACE = envint("EXTAGRAM_MEDIA_SWEEP_GRACE", 3600)
# A member's deletion of their account: closed before the answer, its data deleted after it
# on a thread (accounts.erasure.close_account); the media sweep finishes one left unfinished
# for longer than this many seconds (its thread's process died)
ERASURE_IN_BACKGROUND = envbool("EXTAGRAM_ERASURE_IN_BACKGROUND", "true")
ERASURE_RESUME_AFTER = envint("EXTAGRAM_ERASURE_RESUME_AFTER", 3600)
FILE_UPLOAD_PERMISSIONS = 0o644
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755

FEED_PAGE_SIZE = envint("EXTAGRAM_FEED_PAGE_SIZE", 12)
# How long a front proxy may reuse a signed-out page (0 turns it off).
PROXY_CACHE_SECONDS = envint("EXTAGRAM_PROXY_CACHE_SECONDS", 2)

# Proxy trust: forwarded headers are honoured only from these addresses/networks.
TRUSTED_PROXIES = envlist("EXTAGRAM_TRUSTED_PROXIES")
USE_X_FORWARDED_HOST = bool(TRUSTED_PROXIES)
USE_X_FORWARDED_PORT = bool(TRUSTED_PROXIES)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None

# Security block. EXTAGRAM_TLS=true when users reach the site over HTTPS.
TLS = envbool("EXTAGRAM_TLS", "false")
SESSION_COOKIE_SECURE = TLS
CSRF_COOKIE_SECURE = TLS
SECURE_SSL_REDIRECT = TLS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000) if TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "true") and TLS
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false") and TLS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# The app's own security headers are their one source of truth: the proxy passes them
# through, and `make run` behind any other proxy (or none) sends them too. No inline
# script, style or handler anywhere: behaviour lives in extagram.js, looks in extagram.css.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features the site never uses: off for it and for anything it could embed.
PERMISSIONS_POLICY = dict.fromkeys(
    [
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    ],
    [],
)

ADMINS = []
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "extagram.core.middleware.RequestIdFilter"},
        "client_errors": {"()": "extagram.core.middleware.ClientErrorTracebackFilter"},
        "suspicious_requests": {"()": "extagram.core.middleware.SuspiciousRequestFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "suspicious_requests"],
        }
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["client_errors"]},
    },
}
