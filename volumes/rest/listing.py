"""Cinder's list query parameters: filters, ``sort``, ``limit``/``marker``/``offset``, count."""

import ast
from datetime import datetime
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.dateparse import parse_datetime

from core.kernel.numbers import ascii_int
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.schemas import DB_MAX_INT, truthy

MAX_LIMIT = 1000  # osapi_max_limit
PAGING_KEYS = {"limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count"}
TIME_OPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "eq": "exact"}


def _int_param(raw: str, name: str) -> int:
    """A non-negative integer in ASCII digits, as Cinder's validate_integer words it."""
    if raw.startswith("-") and ascii_int(raw[1:]) is not None:
        raise Fault(400, f"{name} param must be positive")
    value = ascii_int(raw)
    if value is None:
        raise Fault(400, f"{name} param must be an integer")
    if value > DB_MAX_INT:
        raise Fault(400, f"{name} param must be less than {DB_MAX_INT}")
    return value


def sort_keys(call: Call, allowed: dict[str, str], default: str = "created_at") -> list[str]:
    """``sort=k1:asc,k2`` (or the deprecated sort_key/sort_dir) as ORM order_by terms."""
    params = call.request.GET
    if "sort" in params and ("sort_key" in params or "sort_dir" in params):
        raise Fault(
            400,
            "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot "
            "be used with the 'sort' parameter.",
        )
    if "sort" in params:
        pairs = []
        for item in params["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key.strip(), (direction or "desc").strip()))
    else:
        pairs = [(params.get("sort_key", default), params.get("sort_dir", "desc"))]
    terms = []
    for key, direction in pairs:
        if key not in allowed:
            raise Fault(400, "Invalid input received: Invalid sort key")
        if direction.lower() not in ("asc", "desc"):
            raise Fault(
                400, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'"
            )
        terms.append(("-" if direction.lower() == "desc" else "") + allowed[key])
    if "id" not in [t.lstrip("-") for t in terms]:
        terms.append("-id")  # a stable order for markers
    return terms


def metadata_filter(raw: str) -> Q | dict:
    """``metadata={'k': 'v'}`` (a Python dict literal, as cinderclient sends it)."""
    try:
        value = ast.literal_eval(raw) if len(raw) < 4096 else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Fault(400, f"Invalid input received: Invalid metadata filter {raw}")
    return value


def apply_metadata(queryset: QuerySet, value: dict) -> QuerySet:
    """Exact match on each key's text. The Cast keeps the right-hand side a plain string
    (a bare key transform would send it through JSON parsing: "malformed JSON" on SQLite)."""
    for n, (key, item) in enumerate(value.items()):
        alias = f"_meta{n}"
        text = Cast(KeyTextTransform(key, "metadata"), output_field=TextField())
        queryset = queryset.alias(**{alias: text}).filter(**{alias: item})
    return queryset


def time_filter(field: str, raw: str) -> Q:
    """3.60: ``gt:2024-01-01T00:00:00`` and friends (several comma-separated)."""
    q = Q()
    for part in raw.split(","):
        op, _, stamp = part.partition(":")
        if op not in TIME_OPS and op != "neq":
            op, stamp = "eq", part
        when = _parse_time(stamp)
        if op == "neq":
            q &= ~Q(**{field: when})
        else:
            q &= Q(**{f"{field}__{TIME_OPS[op]}": when})
    return q


def _parse_time(stamp: str) -> datetime:
    try:
        value = parse_datetime(stamp.strip())
    except ValueError:
        value = None
    if value is None:
        raise Fault(400, f"Invalid input received: Invalid time format {stamp}")
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


def paginate(call: Call, queryset: QuerySet, collection_path: str) -> tuple[list, list, int | None]:
    """(items, links, count) after marker, offset and limit.

    Reads one page, as oslo.db's paginate_query does: the marker becomes a keyset
    condition, not a scan of every id. A "next" link comes with every full page, as
    Cinder's _get_collection_links gives it (so a last page that happens to be full is
    followed by an empty one), or, with ``with_count``, whenever the count reaches the
    limit.
    """
    params = call.request.GET
    limit = min(_int_param(params["limit"], "limit"), MAX_LIMIT) if "limit" in params else None
    offset = _int_param(params["offset"], "offset") if "offset" in params else 0
    count = None
    if call.version.at_least("3.45") and truthy(params.get("with_count", "false")):
        count = queryset.count()
    keys = _sort_fields(queryset)
    queryset = queryset.order_by(*[("-" if desc else "") + field for field, desc in keys])
    if "marker" in params:
        queryset = queryset.filter(_after(keys, _marker_values(queryset, keys, params["marker"])))
    effective = limit if limit is not None else MAX_LIMIT
    items = list(queryset[offset : offset + effective])
    links = []
    if items and effective <= (count or len(items)):
        query = {k: v for k, v in params.items() if k != "marker"}
        query["marker"] = str(items[-1].id)
        links = [{"rel": "next", "href": f"{call.prefix}/{collection_path}?{urlencode(query)}"}]
    return items, links, count


def _sort_fields(queryset: QuerySet) -> list[tuple[str, bool]]:
    """The queryset's order as (field, descending), ending with the primary key."""
    keys = [(term.lstrip("-"), term.startswith("-")) for term in queryset.query.order_by]
    if "id" not in [field for field, _ in keys]:
        keys.append(("id", True))
    return keys


def _marker_values(queryset: QuerySet, keys, marker: str) -> tuple:
    try:
        values = queryset.filter(pk=marker).values_list(*[f for f, _ in keys]).first()
    except (ValidationError, ValueError):
        values = None  # not even an id's shape
    if values is None:
        raise Fault(404, f"Marker {marker} could not be found.")
    return values


def _after(keys: list[tuple[str, bool]], values: tuple) -> Q:
    """Rows strictly after the marker row in this order: equal on a prefix of the keys,
    then past the marker on the next one. (Every sort key is NOT NULL.)"""
    after = Q(pk__in=[])
    same = Q()
    for (field, desc), value in zip(keys, values, strict=True):
        after |= same & Q(**{f"{field}__{'lt' if desc else 'gt'}": value})
        same &= Q(**{field: value})
    return after
