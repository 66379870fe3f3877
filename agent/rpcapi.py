"""How other services reach a cinder-volume backend: casts onto its own queue, and the
RPC *calls* Cinder makes for attaching and detaching (the caller waits for the answer).

Each cast is also the backend's work in flight on that resource (a ``workers`` row, see
:mod:`core.cinder.cleanable`), written in the caller's transaction and enqueued once it
commits, so a cast is never lost and a stale job finds nothing to claim. A call that holds
the volume in a status (``holds``) records its work the same way, so a job that dies
never leaves the volume so; a call that failed or timed out ends that work at once.
"""

from redis.exceptions import RedisError

from core.cinder import cleanable, exceptions
from core.kernel import queues
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


# -- calls: attaching and detaching ----------------------------------------------------


def _call(host: str, func: str, volume_id: str, holds: str | None = None, note=None, **kwargs):
    """Call ``agent.attach_manager.<func>`` on the volume's backend; its answer, or the
    error it raised (Cinder's exceptions come back as themselves, as oslo.messaging does
    for ``cinder.exception``), or CallTimedOut."""
    queue, job = volume_queue_name(host), f"agent.attach_manager.{func}"
    arguments = {"host": host, "volume_id": volume_id, **kwargs}
    try:
        if holds is None:
            return queues.call(queue, job, **arguments)
        job_id = cleanable.begin_call(
            "VOLUME",
            volume_id,
            holds,
            service=extract_host(host, "backend"),
            queue=queue,
            func=job,
            **(note or {}),
        )
        try:
            return queues.call(
                queue,
                job,
                job_id=job_id,
                alive=lambda: cleanable.call_pending("VOLUME", volume_id, job_id),
                **arguments,
            )
        except Exception as error:
            cleanable.end_call("VOLUME", volume_id, job_id, f"the {func} call failed ({error})")
            raise
    except RedisError as error:
        raise exceptions.ServiceUnavailable() from error
    except queues.RemoteError as error:
        local = getattr(exceptions, error.exc_type, None)
        if isinstance(local, type) and issubclass(local, exceptions.CinderError):
            raise local(message=error.value) from error
        raise


def initialize_connection(context: dict, host: str, volume_id: str, connector: dict) -> dict:
    return _call(host, "initialize_connection", volume_id, context=context, connector=connector)


def attach_volume(
    context: dict,
    host: str,
    volume_id: str,
    instance_uuid,
    host_name,
    mountpoint,
    mode,
    status: str = "attaching",
) -> str:
    """os-attach, for a volume the caller reserved (``attaching``): the attachment's id."""
    return _call(
        host,
        "attach_volume",
        volume_id,
        holds=status,
        context=context,
        instance_uuid=instance_uuid,
        host_name=host_name,
        mountpoint=mountpoint,
        mode=mode,
    )


def terminate_connection(
    context: dict, host: str, volume_id: str, connector, force: bool = False
) -> None:
    _call(
        host,
        "terminate_connection",
        volume_id,
        context=context,
        connector=connector,
        force=force,
    )


def detach_volume(
    context: dict, host: str, volume_id: str, attachment_id, status: str = "detaching"
) -> None:
    """os-detach (and os-force_detach, from whatever ``status`` the volume is in)."""
    _call(
        host,
        "detach_volume",
        volume_id,
        holds=status,
        context=context,
        attachment_id=attachment_id,
    )


def attachment_update(
    context: dict,
    host: str,
    volume_id: str,
    connector: dict,
    attachment_id: str,
    mode: str,
    holds: str | None,
) -> dict:
    """The attachments API's connection: the flat connection info. ``holds``: the volume's
    status while it is ``reserved`` for this attachment, else None (nothing to hold)."""
    return _call(
        host,
        "attachment_update",
        volume_id,
        holds=holds,
        note={"attachment_id": attachment_id},
        context=context,
        connector=connector,
        attachment_id=attachment_id,
        mode=mode,
        tracked=holds is not None,
    )


def attachment_delete(context: dict, host: str, volume_id: str, attachment_id: str) -> None:
    _call(host, "attachment_delete", volume_id, context=context, attachment_id=attachment_id)
