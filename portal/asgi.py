"""ASGI entry point: HTTP through Django, websockets through Channels.

The REST API runs on a few lasting threads through Django's WSGI handler, the pages
through its ASGI handler (see portal/api_threads.py).

Websockets pass the same-origin check (scheme, host and port: against
cross-site hijacking) and the session auth middleware before any consumer
sees them.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from core.kernel.runtime import warm_up  # noqa: E402
from portal.api_threads import ApiOnThreads  # noqa: E402
from portal.origin import SameOriginValidator  # noqa: E402
from portal.routing import websocket_urlpatterns  # noqa: E402

# Pay now, once per web process, what the first requests would: importing every view
# and taskflow's first engine load (the API flow runs in the request).
get_resolver().url_patterns  # noqa: B018
warm_up(("volumes.api",))

application = ProtocolTypeRouter(
    {
        "http": ApiOnThreads(django_asgi_app, settings.OSAPI_VOLUME_THREADS),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
