"""One Django view per URL, dispatching on method, with everything Cinder's WSGI layer does.

For every call: read the microversion (400/406), authenticate (401), check a
project id in the URL against the caller's (400 "Malformed request url"),
run the handler, turn any error into Cinder's fault body, and echo
``OpenStack-API-Version`` with ``Vary`` and a request id on every answer.
"""

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_not_required
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.cinder import exceptions
from core.kernel.bodies import BodyTooLarge, limited_body
from volumes.rest import faults, microversion
from volumes.rest.auth import Caller, authenticate
from volumes.rest.faults import Fault

LOG = logging.getLogger(__name__)


@dataclass
class Call:
    """What a handler needs: the request, the caller, the version, where links point."""

    request: HttpRequest
    caller: Caller
    version: microversion.APIVersion
    url_project_id: str | None

    @property
    def base_url(self) -> str:
        return self.request.build_absolute_uri("/").rstrip("/")

    @property
    def prefix(self) -> str:
        """``<base>/v3`` or ``<base>/v3/<project_id>``, as the client addressed us."""
        tail = f"/{self.url_project_id}" if self.url_project_id else ""
        return f"{self.base_url}/v3{tail}"

    def require_admin(self, action: str) -> None:
        if not self.caller.is_admin:
            raise faults.forbidden(action)

    def body(self) -> dict:
        """The JSON body as a dict; 400 for anything else (NaN and Infinity included)."""
        try:
            raw = limited_body(self.request)
        except BodyTooLarge:
            raise Fault(413, BodyTooLarge.message) from None
        try:
            data = json.loads(raw or b"null", parse_constant=_no_constants)
        except (ValueError, RecursionError, UnicodeDecodeError):
            raise Fault(400, "Malformed request body") from None
        if not isinstance(data, dict):
            raise Fault(400, "Malformed request body")
        _check_strings(data)
        return data


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _check_strings(value, depth: int = 0) -> None:
    """Strings the database can store: UTF-8 encodable and free of NUL characters
    (PostgreSQL refuses NUL in text). Bodies and query parameters alike."""
    if depth > 32:
        raise Fault(400, "Malformed request body: nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise Fault(400, "Invalid input received: strings must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Fault(400, "Invalid input received: strings must be valid UTF-8") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, depth + 1)
            _check_strings(item, depth + 1)
    elif isinstance(value, list | tuple) or hasattr(value, "__next__"):
        for item in value:
            _check_strings(item, depth + 1)


READS = ("GET", "HEAD")
# A handler answers (status, body) or (status, body, headers).
Handler = Callable[..., tuple]


def resource(**handlers: Handler):
    """A view serving ``handlers`` by method (GET=..., POST=...); HEAD follows GET."""
    allowed = sorted(handlers)

    @login_not_required
    @csrf_exempt
    def view(request: HttpRequest, project_id: str | None = None, **kwargs) -> HttpResponse:
        request_id = f"req-{uuid.uuid4()}"
        version = None
        try:
            version = microversion.from_header(request.headers.get(microversion.HEADER))
            caller = authenticate(request)
            caller.request_id = request_id
            if project_id is not None and project_id != caller.project_id:
                raise Fault(400, "Malformed request url")
            handler = handlers.get("GET" if request.method == "HEAD" else request.method)
            if handler is None:
                raise Fault(
                    405,
                    "The method specified is not allowed for this resource.",
                    {"Allow": ", ".join(allowed)},
                )
            if request.method not in READS and handler is not _no_such_resource:
                if not caller.may_change:
                    raise faults.forbidden(f"{request.method} {request.path}")
            _check_strings(request.GET.lists())
            call = Call(request, caller, version, project_id)
            status, body, *extra = handler(call, **kwargs)
            response = (
                JsonResponse(body, status=status)
                if body is not None
                else HttpResponse(status=status)
            )
            for key, value in (extra[0] if extra else {}).items():
                response[key] = value
        except microversion.VersionError as error:
            response = faults.response(error.code, str(error))
        except (Fault, exceptions.CinderError) as error:
            response = faults.from_exception(error)
        except OperationalError:
            # An overloaded database (SQLite's "database is locked" after its busy
            # timeout): a retryable 503, not a 500. The flow's reverts gave back what
            # they could; a reservation they could not reach expires as in Cinder.
            LOG.warning("Database busy in %s %s", request.method, request.path)
            response = faults.response(
                503, "The service is overloaded; try again.", {"Retry-After": "1"}
            )
        except Exception as error:  # never leak a traceback; Cinder answers computeFault
            LOG.exception("Unexpected error in %s %s", request.method, request.path)
            response = faults.from_exception(error)
        return decorate(response, version or microversion.MIN_VERSION, request_id)

    return view


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _no_such_resource(call: Call, **kwargs) -> tuple[int, dict]:
    raise Fault(404, "The resource could not be found.")


def not_found():
    """The last route: any other path is Cinder's ``itemNotFound``, after authentication
    (as Cinder's router answers behind keystonemiddleware), never Django's HTML page."""
    return resource(**{method: _no_such_resource for method in METHODS})


def decorate(response: HttpResponse, version, request_id: str) -> HttpResponse:
    response[microversion.HEADER] = f"{microversion.SERVICE} {version}"
    response["Vary"] = microversion.HEADER
    response["x-openstack-request-id"] = request_id
    response["x-compute-request-id"] = request_id
    return response
