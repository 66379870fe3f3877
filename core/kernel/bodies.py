"""Request bodies read with a size limit, as oslo.middleware's sizelimit does for Cinder."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from core.kernel.numbers import ascii_int


class BodyTooLarge(Exception):
    """The body is over ``API_MAX_REQUEST_BODY`` bytes (an HTTP 413)."""

    message = "Request is too large."


def limited_body(request) -> bytes:
    """The request's body, refused unread when its Content-Length is over the limit."""
    limit = settings.API_MAX_REQUEST_BODY
    declared = ascii_int(request.META.get("CONTENT_LENGTH", ""))
    if declared is not None and declared > limit:
        raise BodyTooLarge
    try:
        body = request.body
    except RequestDataTooBig:  # Django's own cap, met before ours when the header lied
        raise BodyTooLarge from None
    if len(body) > limit:
        raise BodyTooLarge
    return body
