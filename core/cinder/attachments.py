"""Attachments as Cinder's database keeps them: what ``db.volume_attach``,
``volume_attached`` and ``volume_detached`` do, shared by cinder-api and cinder-volume.

A volume's ``status`` and ``attach_status`` follow its attachments: the first of their
statuses in alphabetical order (attached < attaching < detaching < reserved), attachments in
an ``error_*`` status left out, ``attached`` shown as ``in-use`` and none as
``available``. Every change here is a compare-and-swap or runs in one transaction.

The ``LOST`` table ends the work of an attach or detach call whose job died (see
:mod:`core.cinder.cleanable`): nothing stays ``attaching``, ``reserved`` or ``detaching``.
"""

from django.db import transaction
from django.utils import timezone

from core.cinder.models import Volume, VolumeAttachment

SHOWN = {"attached": "in-use", "detached": "available"}


def statuses_from_attachments(volume_id) -> tuple[str, str]:
    """Cinder's ``_get_statuses_from_attachments``: (status, attach_status)."""
    attach_status = (
        VolumeAttachment.objects.filter(volume_id=volume_id)
        .exclude(attach_status__startswith="error_")
        .order_by("attach_status")
        .values_list("attach_status", flat=True)
        .first()
    ) or "detached"
    return SHOWN.get(attach_status, attach_status), attach_status


def volume_attached(
    attachment_id,
    instance_uuid,
    host_name: str,
    mountpoint: str,
    mode: str,
    mark_attached: bool = True,
) -> Volume:
    """The attachment is made (``attached``, volume ``in-use``), or, for the attachments
    API before ``os-complete``, being made (``attaching`` both)."""
    attach_status, status = ("attached", "in-use") if mark_attached else ("attaching", "attaching")
    with transaction.atomic():
        attachment = VolumeAttachment.objects.select_for_update().get(id=attachment_id)
        attachment.instance_uuid = instance_uuid
        attachment.attached_host = host_name or ""
        attachment.mountpoint = mountpoint or ""
        attachment.attach_mode = mode
        attachment.attach_status = attach_status
        attachment.attach_time = timezone.now()
        attachment.save()
        Volume.objects.filter(id=attachment.volume_id).update(
            status=status, attach_status=attach_status, updated_at=timezone.now()
        )
    return Volume.objects.get(id=attachment.volume_id)


def volume_detached(volume_id, attachment_id) -> dict:
    """Cinder's ``finish_detach``: the attachment soft-deleted (``detached``), the volume's
    statuses worked out from what is left. During a migration or an upload the status is
    left alone: those flows set it themselves. Returns the volume's new values."""
    now = timezone.now()
    with transaction.atomic():
        volume = Volume.objects.select_for_update().get(id=volume_id)
        VolumeAttachment.objects.filter(id=attachment_id, volume_id=volume_id).update(
            deleted=True, deleted_at=now, attach_status="detached", detach_time=now
        )
        status, attach_status = statuses_from_attachments(volume_id)
        updates = {"attach_status": attach_status}
        migrating = volume.migration_status and volume.migration_status not in ("success", "error")
        if attach_status != "detached" or not (migrating or volume.status == "uploading"):
            updates["status"] = status
        Volume.objects.filter(id=volume_id).update(updated_at=now, **updates)
    return updates


def unreserve(volume_id, expected: str) -> str | None:
    """Back from ``expected`` to what the attachments say (Cinder's unreserve: ``in-use``
    with attachments, else ``available``); the new status, or None if it had moved on."""
    status, attach_status = statuses_from_attachments(volume_id)
    won = Volume.conditional_update(
        volume_id, {"status": expected}, status=status, attach_status=attach_status
    )
    return status if won else None


def error_attaching(attachment_ids) -> None:
    VolumeAttachment.objects.filter(
        id__in=attachment_ids, attach_status__in=("reserved", "attaching")
    ).update(attach_status="error_attaching", updated_at=timezone.now())


# -- work lost with its job ---------------------------------------------------------


def _lost_attach(volume: Volume, note: dict) -> str | None:
    """os-attach died: the attachment it began fails, the volume is unreserved. (Its
    attachments have no connection info, unlike those of the attachments API.)"""
    begun = volume.attachments.filter(attach_status="attaching", connection_info={})
    error_attaching(list(begun.values_list("id", flat=True)))
    return unreserve(volume.id, "attaching")


def _lost_update(volume: Volume, note: dict) -> str | None:
    """attachment_update died: that attachment fails, the volume follows the others."""
    error_attaching([note["attachment_id"]])
    return unreserve(volume.id, "reserved")


def _lost_detach(volume: Volume, note: dict) -> str | None:
    """os-detach died before it finished: as ``os-roll_detaching``, back to ``in-use``."""
    won = Volume.conditional_update(volume.id, {"status": "detaching"}, status="in-use")
    return "in-use" if won else None


# The volume status a call runs under -> how its lost work ends (volume, the call's note).
LOST = {"attaching": _lost_attach, "reserved": _lost_update, "detaching": _lost_detach}
