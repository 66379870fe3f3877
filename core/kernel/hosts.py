"""Cinder's host strings, ``host@backend#pool``, taken apart in one place.

As Cinder's ``volume_utils.extract_host``: a volume's ``host`` names its pool, a
volume service's its backend, and an agent process its storage host.
"""

LEVELS = ("host", "backend", "pool")


def extract_host(host: str | None, level: str = "backend") -> str | None:
    """``node1@lvm#pool`` -> ``node1`` (host), ``node1@lvm`` (backend) or ``pool`` (pool).

    ``None`` stays ``None`` (a volume not scheduled yet); a pool is ``None`` when the
    string names none.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if host is None:
        return None
    backend, _, pool = host.partition("#")
    if level == "host":
        return backend.partition("@")[0]
    if level == "backend":
        return backend
    return pool or None


def backend_parts(host: str) -> tuple[str, str]:
    """``node1@lvm#pool`` -> ``("node1", "lvm")``: the storage host and its backend's name."""
    name, _, backend = extract_host(host, "backend").partition("@")
    return name, backend


def host_filter(field: str, value: str):
    """Cinder's db ``_filter_host``: a Q on ``field`` matching ``value`` at the level its
    shape names: a pool exactly; a backend, or its pools; a host, or its backends and
    pools (``node1`` matches ``node1@lvm`` and ``node1@lvm#pool``)."""
    from django.db.models import Q

    condition = Q(**{field: value})
    if "#" not in value:
        condition |= Q(**{f"{field}__startswith": value + "#"})
        if "@" not in value:
            condition |= Q(**{f"{field}__startswith": value + "@"})
    return condition
