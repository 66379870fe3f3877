"""Production settings: the defaults plus everything `check --deploy` asks for.

Use with ``DJANGO_SETTINGS_MODULE=portal.settings_production``;
``CINDERLAB_SECRET_KEY`` must then be set. Behind a TLS proxy, name the header
it sets (``CINDERLAB_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO``): only then is
that header believed, and the proxy must strip it from what clients send.
"""

from django.core.exceptions import ImproperlyConfigured

from core.kernel.env import envint, envstr
from portal.settings import *  # noqa: F403

if not envstr("CINDERLAB_SECRET_KEY"):
    raise ImproperlyConfigured("CINDERLAB_SECRET_KEY must be set in production")

if FAST_PASSWORD_HASHER:  # noqa: F405
    raise ImproperlyConfigured("CINDERLAB_INSECURE_FAST_HASHER must not be set in production")

if CINDERLAB_AUTH == "noauth":  # noqa: F405
    raise ImproperlyConfigured("CINDERLAB_AUTH=noauth lets anyone act as anyone: not in production")

DEBUG = False
_PROXY_HEADER = envstr("CINDERLAB_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (_PROXY_HEADER, "https") if _PROXY_HEADER else None
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("CINDERLAB_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
