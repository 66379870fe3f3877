"""Creating a volume from each source, end to end on real workers: the data really moves."""

import pytest

from agent.drivers import backend_config
from core.cinder import exceptions
from core.cinder.models import Image, Volume
from core.kernel.models import FlowRun
from tests.integration.agent_support import (
    MiB,
    backing_file,
    context,
    create,
    read_at,
    settled,
    wait_available,
    wait_snapshot,
    write_at,
)
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration

HEAD = b"cinderlab: first bytes of the source volume"
MIDDLE = b"and these sit half a GiB in"


def source_with_data(world, size: int = 1, **kwargs) -> Volume:
    volume = wait_available(create(world, size=size, name="source", **kwargs).id)
    path = backing_file(volume)
    write_at(path, 0, HEAD)
    write_at(path, 512 * MiB, MIDDLE)
    return volume


def manager_commands(volume) -> list[str]:
    run = FlowRun.objects.filter(volume_id=volume.id, flow="manager", state="success").get()
    task = run.tasks.get(name="CreateVolumeFromSpecTask")
    return [command_line(c) for c in task.commands]


def command_line(command: dict) -> str:
    return command.get("command_line") or " ".join(command["argv"])


def test_bytes_written_into_a_volume_are_readable_in_its_clone(world, cloud):
    source = source_with_data(world)

    clone = create(world, source_volid=str(source.id), name="clone")
    clone = wait_available(clone.id)

    assert clone.size == source.size  # the size defaults to the source's
    assert clone.source_volid == source.id
    assert clone.host.partition("#")[0] == source.host.partition("#")[0]  # pinned
    path = backing_file(clone)
    assert read_at(path, 0, len(HEAD)) == HEAD
    assert read_at(path, 512 * MiB, len(MIDDLE)) == MIDDLE


def test_a_thick_clone_goes_through_a_temporary_snapshot_and_dd(world, cloud):
    source = source_with_data(world, volume_type="gold", availability_zone="az2")
    assert backend_config(source.host).lvm_type == "default"

    clone = wait_available(create(world, source_volid=str(source.id), size=2).id)

    commands = manager_commands(clone)
    assert any(f"--name clone-snap-{clone.id} --snapshot" in c for c in commands)
    assert any(c.startswith("dd if=/dev/mapper/") and f"count={1024 * MiB}" in c for c in commands)
    assert backing_file(clone).stat().st_size == 2 * 1024 * MiB
    assert read_at(backing_file(clone), 512 * MiB, len(MIDDLE)) == MIDDLE


def test_a_volume_made_from_a_snapshot_holds_the_data_as_it_was_at_the_snapshot(world, cloud):
    source = source_with_data(world)
    snapshot = api.create_snapshot(context(world), source.id, name="before")
    snapshot = wait_snapshot(snapshot.id)
    assert snapshot.status == "available"
    write_at(backing_file(source), 0, b"X" * len(HEAD))  # written after the snapshot

    volume = wait_available(create(world, snapshot_id=str(snapshot.id), size=2).id)

    assert volume.snapshot_id == snapshot.id and volume.size == 2
    path = backing_file(volume)
    assert read_at(path, 0, len(HEAD)) == HEAD
    assert read_at(path, 512 * MiB, len(MIDDLE)) == MIDDLE


def test_an_images_bytes_appear_in_the_volume_made_from_it(world, cloud, settings):
    data = b"an image, byte for byte " * 50_000  # ~1.2 MB of raw disk
    images = settings.VAR_DIR / "images"
    images.mkdir(exist_ok=True)
    image = Image.objects.create(name="tiny-raw", status="active", disk_format="raw")
    image.file = f"{image.id}.img"
    (images / image.file).write_bytes(data)
    image.size = len(data)
    image.save()

    volume = wait_available(create(world, image_id=str(image.id), size=1).id)

    assert volume.image_id == image.id and volume.bootable
    assert read_at(backing_file(volume), 0, len(data)) == data
    assert any("qemu-img convert" in c for c in manager_commands(volume))
    run = FlowRun.objects.get(volume_id=volume.id, flow="manager")
    assert run.tasks.get(name="ExtractVolumeSpecTask").result["type"] == "image"


def test_an_image_whose_virtual_size_does_not_fit_fails_without_a_reschedule(
    world, cloud, settings
):
    """A qcow2 header saying 5 GiB: the driver finds it unacceptable; no other backend
    would do better, so the volume goes to error after one attempt (no_reschedule_types)."""
    header = b"QFI\xfb" + b"\0" * 20 + (5 * 1024**3).to_bytes(8, "big")
    images = settings.VAR_DIR / "images"
    images.mkdir(exist_ok=True)
    image = Image.objects.create(name="big-qcow2", status="active", disk_format="qcow2")
    image.file = f"{image.id}.qcow2"
    (images / image.file).write_bytes(header + b"\0" * 4096)
    image.size = len(header) + 4096
    image.save()

    volume = create(world, image_id=str(image.id), size=1)
    volume = wait_until(settled(volume.id), timeout=60, what="the volume to settle")

    assert volume.status == "error"
    runs = FlowRun.objects.filter(volume_id=volume.id, flow="manager")
    assert [(r.attempt, r.state) for r in runs] == [(1, "reverted")]
    assert "ImageUnacceptable" in runs[0].failure


def test_sources_are_checked_as_cinder_checks_them(world, cloud):
    source = source_with_data(world, size=2)
    ctx = context(world)
    before = Volume.objects.filter(project=world.project).count()

    with pytest.raises(exceptions.InvalidInput, match="cannot be smaller than original"):
        api.create(ctx, size=1, source_volid=str(source.id))
    with pytest.raises(exceptions.InvalidInput, match="May specify only one of"):
        api.create(ctx, size=1, source_volid=str(source.id), snapshot_id=str(source.id))
    with pytest.raises(exceptions.SnapshotNotFound):
        api.create(ctx, size=1, snapshot_id=str(source.id))
    Volume.objects.filter(id=source.id).update(status="error")
    with pytest.raises(exceptions.InvalidVolume, match="originating source volume"):
        api.create(ctx, size=1, source_volid=str(source.id))
    outsider = api.request_context(world.outsider, world.outsider.projects.first())
    with pytest.raises(exceptions.VolumeNotFound):
        api.create(outsider, size=1, source_volid=str(source.id))
    # Refused requests leave nothing behind.
    assert Volume.objects.filter(project=world.project).count() == before


def test_a_driver_failure_tells_the_user_cinders_fixed_words_not_the_servers_insides(
    world, cloud, settings
):
    """The raw error (with server paths) stays in the operator's trace, as in Cinder, where
    free-form user messages are not allowed."""
    from agent.storage.image_format import qcow2_header
    from core.cinder.models import UserMessage

    images = settings.VAR_DIR / "images"
    images.mkdir(exist_ok=True)
    image = Image.objects.create(name="evil-qcow2", status="active", disk_format="qcow2")
    image.file = f"{image.id}.qcow2"
    (images / image.file).write_bytes(qcow2_header(1024**3, backing_file="/etc/shadow"))
    image.size = (images / image.file).stat().st_size
    image.save()

    volume = create(world, image_id=str(image.id), size=1)
    volume = wait_until(settled(volume.id), timeout=60, what="the volume to settle")

    assert volume.status == "error"
    run = FlowRun.objects.get(volume_id=volume.id, flow="manager")
    assert "/etc/shadow" in run.failure  # the operator's trace keeps the reason
    texts = list(
        UserMessage.objects.filter(resource_uuid=volume.id).values_list("user_message", flat=True)
    )
    assert "create volume from backend storage: Driver failed to create the volume." in texts
    assert not [t for t in texts if "/etc/shadow" in t or str(settings.VAR_DIR) in t]
