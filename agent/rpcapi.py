"""How other services reach a cinder-volume backend: casts onto its own queue.

Each cast is also the backend's work in flight on that resource (a ``workers`` row, see
:mod:`core.cinder.cleanable`), written in the caller's transaction and enqueued once it
commits, so a cast is never lost and a stale job finds nothing to claim.
"""

from core.cinder import cleanable
from core.kernel.hosts import extract_host
from core.kernel.queues import cast, volume_queue_name


def _cast(resource_type: str, resource_id: str, status: str, host: str, func: str, **kwargs):
    return cleanable.cast(
        resource_type,
        resource_id,
        status,
        service=extract_host(host, "backend"),
        queue=volume_queue_name(host),
        func=f"agent.manager.{func}",
        host=host,
        **kwargs,
    )


def create_volume(
    context: dict,
    host: str,
    volume_id: str,
    request_spec: dict,
    filter_properties: dict,
    from_job: str | None = None,
) -> bool:
    """The scheduler hands a volume to its backend (False if the volume moved on meanwhile)."""
    return _cast(
        "VOLUME",
        volume_id,
        "creating",
        host,
        "create_volume",
        from_job=from_job,
        context=context,
        volume_id=volume_id,
        request_spec=request_spec,
        filter_properties=filter_properties,
    )


def delete_volume(context: dict, host: str, volume_id: str, cascade: bool = False) -> None:
    _cast(
        "VOLUME",
        volume_id,
        "deleting",
        host,
        "delete_volume",
        context=context,
        volume_id=volume_id,
        cascade=cascade,
    )


def extend_volume(
    context: dict,
    host: str,
    volume_id: str,
    new_size: int,
    reservations: list,
    from_job: str | None = None,
) -> bool:
    """The scheduler found room: the backend extends (``from_job`` hands the work on)."""
    return _cast(
        "VOLUME",
        volume_id,
        "extending",
        host,
        "extend_volume",
        from_job=from_job,
        context=context,
        volume_id=volume_id,
        new_size=new_size,
        reservations=reservations,
    )


def revert_to_snapshot(context: dict, host: str, volume_id: str, snapshot_id: str) -> None:
    """The API claimed ``reverting`` (and ``restoring`` for the snapshot)."""
    _cast(
        "VOLUME",
        volume_id,
        "reverting",
        host,
        "revert_to_snapshot",
        context=context,
        volume_id=volume_id,
        snapshot_id=snapshot_id,
    )


def retype(
    context: dict,
    host: str,
    volume_id: str,
    new_type_id: str,
    target: str,
    migration_policy: str,
    reservations: list,
    old_reservations: list,
    from_job: str | None = None,
) -> bool:
    """The scheduler found ``target`` for the new type: the volume's own backend retypes."""
    return _cast(
        "VOLUME",
        volume_id,
        "retyping",
        host,
        "retype",
        from_job=from_job,
        context=context,
        volume_id=volume_id,
        new_type_id=new_type_id,
        target=target,
        migration_policy=migration_policy,
        reservations=reservations,
        old_reservations=old_reservations,
    )


def migrate_volume(
    context: dict,
    host: str,
    volume_id: str,
    target: str,
    force_host_copy: bool,
    from_job: str | None = None,
) -> bool:
    """The destination passed the filters: the volume's own backend migrates it there."""
    return _cast(
        "VOLUME",
        volume_id,
        "migrating",
        host,
        "migrate_volume",
        from_job=from_job,
        context=context,
        volume_id=volume_id,
        target=target,
        force_host_copy=force_host_copy,
    )


def update_migrated_volume(
    context: dict, host: str, volume_id: str, new_volume_id: str, move: dict, from_job: str
) -> bool:
    """The data is on the destination: its backend renames and the rows swap identities
    (Cinder's RPC *call* from the source's ``migrate_volume_completion``; here the rest of
    the completion runs there too). ``move`` carries the retype's type and reservations."""
    return _cast(
        "VOLUME",
        volume_id,
        move["work"],
        host,
        "update_migrated_volume",
        from_job=from_job,
        context=context,
        volume_id=volume_id,
        new_volume_id=new_volume_id,
        move=move,
        reservations=move.get("reservations") or [],
        old_reservations=move.get("old_reservations") or [],
    )


def create_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    _cast(
        "SNAPSHOT",
        snapshot_id,
        "creating",
        host,
        "create_snapshot",
        context=context,
        snapshot_id=snapshot_id,
    )


def delete_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    _cast(
        "SNAPSHOT",
        snapshot_id,
        "deleting",
        host,
        "delete_snapshot",
        context=context,
        snapshot_id=snapshot_id,
    )


def do_cleanup(context: dict, host: str) -> None:
    """Ask a live backend to end the work its dead workers left (``POST /workers/cleanup``)."""
    cast(volume_queue_name(host), "agent.manager.do_cleanup", context=context, host=host)
