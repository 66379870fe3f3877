"""cinder-api's operations on an existing volume (Cinder's ``volume/api.py`` after create).

One module per operation: the API's checks and status claim (compare-and-swap), quota, and
the cast to the scheduler or the volume's agent. The REST actions and the web pages call
these, never the casts directly.
"""

import uuid


def operation_context(context: dict) -> dict:
    """The request context with a request id, which ties an operation's runs together."""
    return {**context, "request_id": context.get("request_id") or f"req-{uuid.uuid4()}"}
