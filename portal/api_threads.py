"""The REST API (``/v3``, ``/identity``) through Django's WSGI handler on a few lasting threads.

cinder-api and Keystone are WSGI applications; here they share daphne's socket with the
pages and their websockets. Django's ASGI handler runs each synchronous request on a
thread of its own (asgiref's ``ThreadSensitiveContext``), handing it between the event
loop and that thread several times, and the new thread opens a new database connection:
about 5 ms of CPU per API request, as much as a short listing costs. Here the loop only
reads the body and writes the answer; the request runs whole on one of
``OSAPI_VOLUME_THREADS`` lasting threads, each keeping its database connection
(``CONN_MAX_AGE``). The fixed pool is also the API's backpressure: past saturation,
requests wait in line for a thread instead of adding threads that contend for the CPU.
"""

import asyncio
import tempfile
from concurrent.futures import ThreadPoolExecutor

from asgiref.wsgi import WsgiToAsgiInstance
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

API_PREFIXES = ("/v3", "/identity")


class ApiOnThreads:
    """An ASGI app: requests under ``API_PREFIXES`` to the WSGI handler, others to ``pages``."""

    def __init__(self, pages, threads: int):
        self.pages = pages
        self.wsgi = WSGIHandler()
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="osapi")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIXES):
            return await self.pages(scope, receive, send)
        # As Django's ASGI handler: the body read whole first, on disk past a size.
        with tempfile.SpooledTemporaryFile(settings.FILE_UPLOAD_MAX_MEMORY_SIZE) as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body.write(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body.seek(0)
            loop = asyncio.get_running_loop()
            status, headers, content = await loop.run_in_executor(
                self.pool, self._respond, scope, body
            )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _respond(self, scope, body) -> tuple[int, list, bytes]:
        """The whole request on this thread: environ, view, and the response's close
        (``request_finished``, which returns the database connection)."""
        try:
            environ = _environ(scope, body)
        except ValueError:  # asgiref's answer to too many duplicate headers
            return 400, [(b"content-type", b"text/plain")], b"Bad Request"
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = [
                (name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers
            ]

        response = self.wsgi(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            response.close()
        return started["status"], started["headers"], content


def _environ(scope, body) -> dict:
    """asgiref's translation of an ASGI scope into a WSGI environ."""
    translator = WsgiToAsgiInstance(None)
    translator.scope = scope
    return translator.build_environ(scope, body)
