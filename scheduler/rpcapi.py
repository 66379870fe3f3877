"""How other services reach cinder-scheduler.

Casts go onto the ``scheduler`` queue; a create is also the volume's work in flight (a
``workers`` row, see :mod:`core.cinder.cleanable`). ``get_pools`` is one of Cinder's RPC *calls*
(the API waits for the answer): here it reads the scheduler's own pool records
directly, which is what the scheduler would answer with.
"""

from core.cinder import cleanable
from core.kernel.queues import SCHEDULER_QUEUE, cast
from scheduler.models import Pool


def create_volume(
    context: dict,
    volume_id: str,
    request_spec: dict,
    filter_properties: dict,
    from_job: str | None = None,
    strict: bool = False,
    first: bool = False,
) -> bool:
    """Ask for a backend: from the API (``strict``: Redis refusing raises; ``first``: the
    volume's first work), or again from the backend that failed (``from_job``: False if the
    volume moved on meanwhile)."""
    return cleanable.cast(
        "VOLUME",
        volume_id,
        "creating",
        service=cleanable.SCHEDULER,
        queue=SCHEDULER_QUEUE,
        func="scheduler.manager.create_volume",
        from_job=from_job,
        strict=strict,
        first=first,
        context=context,
        volume_id=volume_id,
        request_spec=request_spec,
        filter_properties=filter_properties,
    )


def extend_volume(
    context: dict, volume_id: str, new_size: int, reservations: list, request_spec: dict
) -> None:
    """Ask whether the volume's pool can hold ``new_size`` (the API has claimed ``extending``)."""
    cleanable.cast(
        "VOLUME",
        volume_id,
        "extending",
        service=cleanable.SCHEDULER,
        queue=SCHEDULER_QUEUE,
        func="scheduler.manager.extend_volume",
        context=context,
        volume_id=volume_id,
        new_size=new_size,
        reservations=reservations,
        request_spec=request_spec,
    )


def retype(context: dict, volume_id: str, request_spec: dict) -> None:
    """Find a backend for the new type (the API has claimed ``retyping`` and reserved the new
    type's quota; ``request_spec`` carries the reservations)."""
    _cast_operation(volume_id, "retyping", "retype", context=context, request_spec=request_spec)


def migrate_volume(
    context: dict, volume_id: str, backend: str, force_copy: bool, request_spec: dict
) -> None:
    """Check the destination can take the volume (the API has set ``starting``)."""
    _cast_operation(
        volume_id,
        "migrating",
        "migrate_volume",
        context=context,
        backend=backend,
        force_copy=force_copy,
        request_spec=request_spec,
    )


def _cast_operation(volume_id: str, status: str, func: str, **kwargs) -> None:
    """The scheduler's part of an operation on an existing volume: its work in flight."""
    cleanable.cast(
        "VOLUME",
        volume_id,
        status,
        service=cleanable.SCHEDULER,
        queue=SCHEDULER_QUEUE,
        func=f"scheduler.manager.{func}",
        volume_id=volume_id,
        **kwargs,
    )


def update_service_capabilities(host: str, capabilities: dict, timestamp: str) -> None:
    cast(
        SCHEDULER_QUEUE,
        "scheduler.manager.update_service_capabilities",
        job_timeout=60,
        host=host,
        capabilities=capabilities,
        timestamp=timestamp,
    )


def update_pools_capabilities(reports: list[tuple], timestamp: str) -> None:
    """Many pools' reports in one cast (the simulated fleet): ``(pool, host, zone, caps)``."""
    cast(
        SCHEDULER_QUEUE,
        "scheduler.manager.update_pools_capabilities",
        job_timeout=120,
        reports=reports,
        timestamp=timestamp,
    )


def get_pools(context: dict) -> list[dict]:
    """Every pool as last reported: ``{"name", "capabilities", "reported_at"}``, by name."""
    return [
        {"name": name, "capabilities": caps, "reported_at": reported_at}
        for name, caps, reported_at in Pool.objects.values_list(
            "name", "capabilities", "reported_at"
        )
    ]
