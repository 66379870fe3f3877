"""The attachments API (3.27+, Cinder's ``attachment_create/update/delete`` and the
``os-complete`` action): how Nova attaches since Queens.

Create reserves the volume (``reserved``) with a ``reserved`` attachment; given a
connector, the backend exports the volume and answers the connection info at once (an RPC
call), else an update with the connector does it later. The attachment and volume are then
``attaching`` until the caller says ``os-complete`` (``attached``, ``in-use``). Delete
closes the host's access and removes the export on the backend (a call) unless the
attachment was only reserved, then finishes the detach here, as Cinder's API does.
"""

import socket
import uuid

from django.db import transaction
from django.utils import timezone

from agent import rpcapi as volume_rpcapi
from core.cinder import attachments, exceptions, messages
from core.cinder.models import Volume, VolumeAttachment
from core.kernel import events
from volumes.lifecycle import operation_context
from volumes.lifecycle.attach import deletion_allowed


def _changed(volume_id) -> None:
    volume = Volume.objects.get(id=volume_id)
    events.volume_changed(volume.id, volume.project_id)


def visible(context: dict, all_tenants: bool = False):
    """The attachments of the caller's project (every one, for an admin who asks)."""
    rows = VolumeAttachment.objects.select_related("volume")
    if context.get("is_admin") and all_tenants:
        return rows
    return rows.filter(volume__project_id=context["project_id"])


def get_attachment(context: dict, attachment_id) -> VolumeAttachment:
    """Its project's attachment (an admin's: any); VolumeAttachmentNotFound otherwise."""
    try:
        wanted = uuid.UUID(str(attachment_id))
    except ValueError:
        wanted = None
    rows = visible(context, all_tenants=True)
    found = rows.filter(id=wanted).first() if wanted else None
    if found is None:
        raise exceptions.VolumeAttachmentNotFound(filter=f"attachment_id = {attachment_id}")
    return found


def _reserve(volume: Volume, instance_uuid) -> VolumeAttachment:
    """Cinder's ``_attachment_reserve``: the volume ``reserved`` (a server attaching the
    volume it already has may reserve again: Nova's live migration)."""
    allowed = (
        ("available", "in-use", "downloading")
        if volume.multiattach
        else ("available", "downloading")
    )
    won = Volume.conditional_update(
        volume.id, {"status__in": allowed, "multiattach": volume.multiattach}, status="reserved"
    )
    if not won:
        volume.refresh_from_db()
        again = (
            instance_uuid
            and volume.status in ("in-use", "reserved")
            and volume.attachments.filter(instance_uuid=instance_uuid).exists()
        )
        if not again:
            raise exceptions.InvalidVolume(
                reason=f"Volume {volume.id} status must be {' or '.join(allowed)} to reserve, "
                f"but the current status is {volume.status}."
            )
    return VolumeAttachment.objects.create(
        volume=volume, instance_uuid=instance_uuid, attach_status="reserved", attach_mode="null"
    )


def create(
    context: dict, volume: Volume, instance_uuid=None, connector: dict | None = None, mode="null"
) -> VolumeAttachment:
    """Reserve, and connect at once if the caller gave its connector."""
    if "error" in volume.status:
        raise exceptions.InvalidVolume(
            reason="Volume attachments can not be created if the volume is in an error state. "
            f"The Volume {volume.id} currently has a status of: {volume.status} "
        )
    attachment = _reserve(volume, instance_uuid)
    VolumeAttachment.objects.filter(id=attachment.id).update(attach_mode=mode)
    _changed(volume.id)
    if connector:
        _connect(context, attachment, connector)
    attachment.refresh_from_db()
    return attachment


def update(context: dict, attachment: VolumeAttachment, connector: dict) -> VolumeAttachment:
    """Connect a reserved attachment (or connect it again) with the host's connector."""
    volume = Volume.objects.get(id=attachment.volume_id)
    if "error" in volume.status:
        raise exceptions.ResourceConflict(
            reason="Volume attachments can not be updated if the volume is in an error state. "
            f"The Volume {volume.id} currently has a status of: {volume.status} "
        )
    others = list(volume.attachments.all())
    if len(others) > 1 and not volume.multiattach:
        hosts = {(a.connector or {}).get("host") for a in others if a.connection_info}
        if hosts:
            raise exceptions.ResourceConflict(
                reason=f"duplicate connectors detected on volume {volume.id}"
            )
    _connect(context, attachment, connector)
    attachment.refresh_from_db()
    return attachment


def _connect(context: dict, attachment: VolumeAttachment, connector: dict) -> dict:
    """The backend exports the volume for the connector's host (a call). The mode given
    at create wins over the connector's, as in Cinder."""
    volume = Volume.objects.get(id=attachment.volume_id)
    mode = attachment.attach_mode if attachment.attach_mode != "null" else None
    connector = {**connector, "mode": mode or connector.get("mode") or "rw"}
    info = volume_rpcapi.attachment_update(
        operation_context(context),
        volume.host,
        str(volume.id),
        connector,
        str(attachment.id),
        connector["mode"],
        holds="reserved" if volume.status == "reserved" else None,
    )
    _changed(volume.id)
    return info


def complete(context: dict, attachment: VolumeAttachment) -> None:
    """``os-complete`` (3.44): the host has connected; ``attached``, ``in-use``."""
    with transaction.atomic():
        VolumeAttachment.objects.filter(id=attachment.id).update(
            attach_status="attached", updated_at=timezone.now()
        )
        Volume.objects.filter(id=attachment.volume_id).update(
            status="in-use", attach_status="attached", updated_at=timezone.now()
        )
    volume = Volume.objects.get(id=attachment.volume_id)
    messages.notify_volume_usage(volume, "attach.end", socket.gethostname())
    _changed(volume.id)


def delete(context: dict, attachment: VolumeAttachment) -> list[VolumeAttachment]:
    """Detach: the backend closes the access and removes the export (a call) unless the
    attachment was only reserved; then ``finish_detach`` here and ``detach.end``. Returns
    the volume's attachments left."""
    volume = Volume.objects.get(id=attachment.volume_id)
    deletion_allowed(volume, attachment.id)
    if attachment.attach_status == "reserved":
        messages.notify_volume_usage(volume, "detach.start", socket.gethostname())
    else:
        volume_rpcapi.attachment_delete(
            operation_context(context), volume.host, str(volume.id), str(attachment.id)
        )
    attachments.volume_detached(volume.id, attachment.id)
    volume.refresh_from_db()
    messages.notify_volume_usage(volume, "detach.end", socket.gethostname())
    _changed(volume.id)
    return list(volume.attachments.all())
