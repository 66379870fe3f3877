"""A volume's statuses follow its attachments, as Cinder's database works them out, and lost
attach or detach work ends without leaving the volume attaching, reserved or detaching."""

import pytest

from core.cinder import attachments
from core.cinder.models import Volume, VolumeAttachment, VolumeType

INSTANCE = "0b3a3b2e-5b0a-4c8e-9d47-7d2f7a1c0f11"


def volume_row(world, status: str = "available", **fields) -> Volume:
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status=status,
        volume_type=VolumeType.default(),
        host="node1@lvm-thick#LVM_thick",
        **fields,
    )


def attachment(volume, status: str, **fields) -> VolumeAttachment:
    return VolumeAttachment.objects.create(volume=volume, attach_status=status, **fields)


@pytest.mark.parametrize(
    "present, shown",
    [
        ([], ("available", "detached")),
        (["attached", "reserved"], ("in-use", "attached")),
        (["reserved", "attaching"], ("attaching", "attaching")),
        (["reserved"], ("reserved", "reserved")),
        (["error_attaching"], ("available", "detached")),
        (["detaching", "error_detaching"], ("detaching", "detaching")),
    ],
)
def test_the_first_attachment_status_in_alphabetical_order_wins(world, present, shown):
    volume = volume_row(world)
    for status in present:
        attachment(volume, status)

    assert attachments.statuses_from_attachments(volume.id) == shown


def test_finish_detach_keeps_the_row_deleted_and_follows_what_is_left(world):
    volume = volume_row(world, "in-use", attach_status="attached")
    first = attachment(volume, "attached", instance_uuid=INSTANCE)
    attachment(volume, "attached")

    updates = attachments.volume_detached(volume.id, first.id)

    assert updates == {"attach_status": "attached", "status": "in-use"}
    gone = VolumeAttachment.all_objects.get(id=first.id)
    assert gone.deleted and gone.attach_status == "detached" and gone.detach_time
    assert volume.attachments.count() == 1


def test_a_migrating_volume_keeps_its_status_when_its_last_attachment_goes(world):
    volume = volume_row(world, "in-use", attach_status="attached", migration_status="migrating")
    only = attachment(volume, "attached")

    attachments.volume_detached(volume.id, only.id)

    volume.refresh_from_db()
    assert (volume.status, volume.attach_status) == ("in-use", "detached")


def test_lost_os_attach_fails_its_attachment_and_unreserves(world):
    volume = volume_row(world, "attaching")
    begun = attachment(volume, "attaching")
    pending = attachment(volume, "attaching", connection_info={"target_lun": 1})

    ending = attachments.LOST["attaching"](volume, {"call": True})

    assert ending == "attaching"  # the attachments API's pending one still attaches it
    begun.refresh_from_db()
    pending.refresh_from_db()
    assert begun.attach_status == "error_attaching" and pending.attach_status == "attaching"


def test_lost_attachment_update_frees_a_reserved_volume(world):
    volume = volume_row(world, "reserved")
    reserved = attachment(volume, "reserved")

    assert attachments.LOST["reserved"](volume, {"attachment_id": str(reserved.id)}) == (
        "available"
    )
    reserved.refresh_from_db()
    assert reserved.attach_status == "error_attaching"
    volume.refresh_from_db()
    assert (volume.status, volume.attach_status) == ("available", "detached")


def test_lost_detach_rolls_back_to_in_use_once(world):
    volume = volume_row(world, "detaching", attach_status="attached")
    attachment(volume, "attached")

    assert attachments.LOST["detaching"](volume, {}) == "in-use"
    assert attachments.LOST["detaching"](volume, {}) is None  # moved on: nothing to do
