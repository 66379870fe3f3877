"""Cinder's extra-spec requirement matcher (``filters/extra_specs_ops.py`` semantics).

A volume-type extra spec such as ``"<in> gold"`` or ``">= 100"`` is a requirement
on one reported capability value. The first word of the requirement is the
operator; only the first word after it is the argument. If the first word is not
an operator the whole string must equal the value (so the boolean ``True`` does
not match the string ``"True"``; ``"<is> True"`` does).

``compile_requirement`` parses a requirement once so the CapabilitiesFilter can
test thousands of pools without re-splitting the string per pool.
"""

import operator
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Matcher = Callable[[Any], bool]

_TRUE_STRINGS = frozenset({"1", "t", "true", "on", "y", "yes"})


def bool_from_string(subject: Any) -> bool:
    """oslo's ``strutils.bool_from_string`` (non-strict, default False)."""
    if isinstance(subject, bool):
        return subject
    return str(subject).strip().lower() in _TRUE_STRINGS


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[Any, str], bool]:
    # Cinder converts both sides with float() on every call; a ValueError is a
    # non-match. We also treat TypeError (a dict or list capability) as a
    # non-match where Cinder would let it escape and fail the whole request.
    def test(value: Any, arg: str) -> bool:
        return compare(float(value), float(arg))

    return test


_OPERATORS: dict[str, Callable[[Any, str], bool]] = {
    "=": _numeric(operator.ge),  # '=' means "at least", not equality
    "==": _numeric(operator.eq),
    "!=": _numeric(operator.ne),
    ">=": _numeric(operator.ge),
    "<=": _numeric(operator.le),
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
    "<in>": lambda value, arg: arg in value,
    "<is>": lambda value, arg: bool_from_string(value) is bool_from_string(arg),
}

#: Every operator word Cinder recognises (``<or>`` is handled separately).
OPERATORS: frozenset[str] = frozenset(_OPERATORS) | {"<or>"}


def _never(value: Any) -> bool:
    return False


@lru_cache(maxsize=4096)
def compile_requirement(req: str | None) -> Matcher:
    """Return a one-argument predicate equivalent to ``match(value, req)``."""
    if req is None:
        return lambda value: value is None

    words = req.split()
    op = words[0] if words else None
    method = _OPERATORS.get(op) if op is not None else None

    if op != "<or>" and method is None:
        return lambda value: value == req  # plain equality of the whole string

    if op == "<or>":
        # "<or> a <or> b <or> c": Cinder pops a candidate, then drops the next
        # word whatever it is, so the candidates are every other word. A bare
        # "<or>" makes Cinder raise IndexError; here it simply matches nothing.
        candidates = tuple(words[1::2])
        return lambda value: value in candidates

    if len(words) < 2:
        return _never  # an operator with no argument matches nothing
    arg = words[1]
    assert method is not None

    def matcher(value: Any) -> bool:
        if value is None:
            return False
        try:
            return bool(method(value, arg))
        except (ValueError, TypeError):
            return False

    return matcher


def match(value: Any, req: str | None) -> bool:
    """Does one capability value satisfy one extra-spec requirement?"""
    return compile_requirement(req)(value)
