"""Cinder's error bodies: ``{"<faultName>": {"code": N, "message": "..."}}``."""

from django.http import JsonResponse

from core.cinder import exceptions

FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    501: "notImplemented",
    503: "serviceUnavailable",
}


class Fault(Exception):
    """An error raised by the REST layer itself (not a domain CinderError)."""

    def __init__(self, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}


def forbidden(action: str) -> Fault:
    return Fault(403, f"Policy doesn't allow {action} to be performed.")


def response(code: int, message: str, headers: dict | None = None) -> JsonResponse:
    name = FAULT_NAMES.get(code, "computeFault")
    detail = {"code": code, "message": message}
    headers = dict(headers or {})
    if code == 413 and "Retry-After" in headers:
        detail["retryAfter"] = headers["Retry-After"]
    result = JsonResponse({name: detail}, status=code)
    for key, value in headers.items():
        result[key] = value
    return result


def from_exception(error: Exception) -> JsonResponse:
    if isinstance(error, Fault):
        return response(error.code, error.message, error.headers)
    if isinstance(error, exceptions.QuotaError):
        # Cinder's FaultWrapper prefixes quota errors with the exception class name.
        return response(error.code, f"{type(error).__name__}: {error}", error.headers)
    if isinstance(error, exceptions.CinderError):
        return response(error.code, str(error), error.headers)
    return response(
        500, "The server has either erred or is incapable of performing the requested operation."
    )
