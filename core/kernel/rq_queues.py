"""Every RQ queue, for django-rq's dashboard: the static ones and each backend's.

A backend's queue (``volume.<host>@<backend>``) exists once its agent has started, so the
list is read from the services table each time it is asked for; settings hold this
mapping as ``RQ_QUEUES``. Nothing here touches the database at import (settings import it).
"""

from collections.abc import Iterator, Mapping


class EveryQueue(Mapping):
    """``RQ_QUEUES`` whose keys are the static queues plus one per volume service."""

    PREFIX = "volume."

    def __init__(self, static: dict[str, dict], backend_config: dict) -> None:
        self.static = static
        self.backend_config = backend_config

    def _backend_queues(self) -> list[str]:
        from core.kernel.models import Service
        from core.kernel.queues import volume_queue_name

        hosts = Service.objects.filter(binary="cinder-volume").values_list("host", flat=True)
        return sorted({volume_queue_name(host) for host in hosts})

    def __getitem__(self, name: str) -> dict:
        if name in self.static:
            return self.static[name]
        if name.startswith(self.PREFIX):  # any backend's queue, listed or not yet
            return self.backend_config
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self.static or (isinstance(name, str) and name.startswith(self.PREFIX))

    def __iter__(self) -> Iterator[str]:
        yield from self.static
        yield from (name for name in self._backend_queues() if name not in self.static)

    def __len__(self) -> int:
        return sum(1 for _ in self)
