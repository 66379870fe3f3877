"""Attaching the old way (Cinder's volume actions, as Nova used them before the attachments
API): ``os-reserve``, ``os-initialize_connection``, ``os-attach``; ``os-begin_detaching``,
``os-terminate_connection``, ``os-detach``; ``os-unreserve`` and ``os-roll_detaching`` to
back out; and the admin's ``os-force_detach``.

The status changes are cinder-api's own compare-and-swaps; the rest are RPC *calls* to the
volume's backend (see :mod:`agent.rpcapi`): this request waits for the agent's answer.
"""

from agent import rpcapi as volume_rpcapi
from core.cinder import exceptions
from core.cinder.models import Volume, VolumeAttachment
from core.kernel import events
from volumes.lifecycle import operation_context

NOT_MIGRATING = ("", "success", "error")  # Cinder's AVAILABLE_MIGRATION_STATUS


def _changed(volume: Volume) -> None:
    events.volume_changed(volume.id, volume.project_id)


def _not_in_maintenance(volume: Volume, what: str) -> None:
    if volume.status == "maintenance":
        raise exceptions.InvalidVolume(reason=f"The volume {what} in maintenance mode.")


def reserve(volume: Volume) -> None:
    """``available`` (or ``in-use`` too, for multiattach) -> ``attaching``."""
    allowed = ("available", "in-use") if volume.multiattach else ("available",)
    won = Volume.conditional_update(
        volume.id,
        {"status__in": allowed, "multiattach": volume.multiattach},
        status="attaching",
    )
    if not won:
        raise exceptions.InvalidVolume(
            reason=f"Volume status must be {' or '.join(allowed)} to reserve, but the status "
            f"is {volume.status}."
        )
    _changed(volume)


def unreserve(volume: Volume) -> None:
    """``attaching`` -> ``in-use`` if it has attachments, else ``available``; a volume not
    reserved is left alone (Cinder: "nothing to do")."""
    has = volume.attachments.exclude(attach_status="detached").exists()
    if Volume.conditional_update(
        volume.id, {"status": "attaching"}, status="in-use" if has else "available"
    ):
        _changed(volume)


def begin_detaching(volume: Volume) -> None:
    """``in-use`` and ``attached`` (and not migrating) -> ``detaching``."""
    won = Volume.conditional_update(
        volume.id,
        {"status": "in-use", "attach_status": "attached", "migration_status__in": NOT_MIGRATING},
        status="detaching",
    )
    migrating = volume.migration_status not in NOT_MIGRATING
    if not won and not migrating:
        raise exceptions.InvalidVolume(
            reason="Unable to detach volume. Volume status must be 'in-use' and attach_status "
            "must be 'attached' to detach."
        )
    _changed(volume)


def roll_detaching(volume: Volume) -> None:
    if Volume.conditional_update(volume.id, {"status": "detaching"}, status="in-use"):
        _changed(volume)


def initialize_connection(context: dict, volume: Volume, connector: dict) -> dict:
    """The agent exports the volume and answers how to connect (a call)."""
    _not_in_maintenance(volume, "connection cannot be initialized")
    info = volume_rpcapi.initialize_connection(
        operation_context(context), volume.host, str(volume.id), connector
    )
    _changed(volume)
    return info


def attach(
    context: dict, volume: Volume, instance_uuid, host_name, mountpoint: str, mode: str
) -> str:
    """Record the attachment on the agent (a call); the volume becomes ``in-use``."""
    _not_in_maintenance(volume, "cannot be attached")
    return volume_rpcapi.attach_volume(
        operation_context(context),
        volume.host,
        str(volume.id),
        instance_uuid,
        host_name,
        mountpoint,
        mode,
        status=volume.status,
    )


def deletion_allowed(volume: Volume, attachment_id=None) -> None:
    """Cinder's ``attachment_deletion_allowed``: a user may not detach what Nova still
    uses. There is no Nova here, so Nova never knows the server: allowed, as Cinder allows
    it then, once the attachment is this volume's."""
    if attachment_id is None:
        return
    attachment = VolumeAttachment.objects.filter(id=attachment_id).first()
    if attachment is not None and attachment.volume_id != volume.id:
        raise exceptions.InvalidInput(reason="Mismatched volume and attachment")


def detach(context: dict, volume: Volume, attachment_id=None) -> None:
    """The agent removes the export and finishes the detach (a call)."""
    deletion_allowed(volume, attachment_id)
    _not_in_maintenance(volume, "cannot be detached")
    volume_rpcapi.detach_volume(
        operation_context(context),
        volume.host,
        str(volume.id),
        str(attachment_id) if attachment_id else None,
        status=volume.status,
    )


def terminate_connection(
    context: dict, volume: Volume, connector: dict | None, force: bool = False
) -> None:
    """The agent closes the host's access (a call); then the volume is unreserved."""
    deletion_allowed(volume)
    volume_rpcapi.terminate_connection(
        operation_context(context), volume.host, str(volume.id), connector, force
    )
    unreserve(volume)
    _changed(volume)


def force_detach(context: dict, volume: Volume, connector, attachment_id) -> None:
    """Admin: terminate the connection, then detach, whatever the volume's status."""
    context = operation_context(context)
    terminate_connection(context, volume, connector)
    volume.refresh_from_db()
    detach(context, volume, attachment_id)
