"""How other services reach a cinder-volume backend: casts onto its own queue."""

from core.kernel.queues import cast, volume_queue_name


def create_volume(
    context: dict, host: str, volume_id: str, request_spec: dict, filter_properties: dict
) -> None:
    cast(
        volume_queue_name(host),
        "agent.manager.create_volume",
        context=context,
        host=host,
        volume_id=volume_id,
        request_spec=request_spec,
        filter_properties=filter_properties,
    )


def delete_volume(context: dict, host: str, volume_id: str, cascade: bool = False) -> None:
    cast(
        volume_queue_name(host),
        "agent.manager.delete_volume",
        context=context,
        host=host,
        volume_id=volume_id,
        cascade=cascade,
    )


def create_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    cast(
        volume_queue_name(host),
        "agent.manager.create_snapshot",
        context=context,
        host=host,
        snapshot_id=snapshot_id,
    )


def delete_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    cast(
        volume_queue_name(host),
        "agent.manager.delete_snapshot",
        context=context,
        host=host,
        snapshot_id=snapshot_id,
    )
