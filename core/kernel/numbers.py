"""Whole numbers from text, strictly: ASCII digits only.

``str.isdigit`` says yes to ``'²'`` and ``'٣'``, which ``int()`` then refuses or reads
unexpectedly; every parameter parser goes through here instead.
"""

import re

_DIGITS = re.compile(r"[0-9]{1,18}")  # a bound a 64-bit column holds


def ascii_int(text) -> int | None:
    """``text`` as a non-negative int if it is nothing but ASCII digits, else None."""
    if isinstance(text, str) and _DIGITS.fullmatch(text):
        return int(text)
    return None
