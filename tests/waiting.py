"""Waiting on a condition with a deadline: the only way tests wait for workers."""

import time
from collections.abc import Callable


class TimedOut(AssertionError):
    pass


def wait_until(
    predicate: Callable[[], object],
    timeout: float = 30.0,
    what: str = "condition",
    interval: float = 0.05,
):
    """Poll ``predicate`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimedOut(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
