"""Websockets only from this site's own pages: Django's CSRF Origin rule, for sockets.

Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page on
``http://127.0.0.1:9999`` (another port, another program) could open a socket
here with the user's cookies. A socket is accepted when its ``Origin`` is exactly
the scheme, host and port it was opened on (``ws`` goes with ``http``, ``wss``
with ``https``), or is listed in ``CSRF_TRUSTED_ORIGINS`` (a TLS proxy's origin).
"""

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def same_origin(scope) -> bool:
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or not host:
        return False
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return origin == f"{scheme}://{host}" or origin in settings.CSRF_TRUSTED_ORIGINS


class SameOriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
