"""What the agent's integration tests share: creating, waiting, reading backing files,
and dedicated backends served by an agent process the test starts itself."""

import os
import uuid
from pathlib import Path

from django.conf import settings

from agent.drivers import backend_config, data_dir
from agent.models import BackendConfig
from agent.storage.simvg import SimulatedVolumeGroup
from core.cinder.models import Snapshot, Volume, VolumeType, VolumeTypeExtraSpec
from core.kernel.models import FlowRun
from scheduler import whatif
from tests.conftest import backends_up
from tests.waiting import wait_until
from volumes import api

MiB = 1024**2


def context(world) -> dict:
    return api.request_context(world.owner, world.project)


def create(world, **kwargs) -> Volume:
    return api.create(context(world), **kwargs)


def first_choice() -> str:
    """Where the scheduler would put a 1 GiB untyped volume in nova right now."""
    chosen = whatif.run(1, {}, "nova").decision.chosen
    assert chosen is not None
    return chosen


def settled(volume_id, statuses=("available", "error")):
    def check():
        volume = Volume.objects.filter(id=volume_id).first()
        runs = FlowRun.objects.filter(volume_id=volume_id)
        done = all(r.ended_at for r in runs)
        return volume if volume and volume.status in statuses and done else None

    return check


def wait_available(volume_id, timeout: float = 60) -> Volume:
    volume = wait_until(settled(volume_id), timeout=timeout, what=f"volume {volume_id} to settle")
    assert volume.status == "available", f"volume ended {volume.status}: {history(volume_id)}"
    return volume


def operation_ended(volume_id, operation: str, statuses=("available",), timeout=90) -> Volume:
    """Wait until every run of ``operation`` on the volume has ended and the volume is in one
    of ``statuses`` and not mid-migration; returns it."""

    def done():
        volume = Volume.objects.get(id=volume_id)
        runs = FlowRun.objects.filter(volume_id=volume_id, operation=operation)
        moving = volume.migration_status in ("starting", "migrating", "completing")
        if volume.status in statuses and not moving and runs.exists():
            return volume if all(r.ended_at for r in runs) else None
        return None

    return wait_until(done, timeout=timeout, what=f"the {operation} of {volume_id} to end")


def delete_left_over(world) -> None:
    """Send the project's volumes (and their snapshots) to be deleted, without waiting, so
    tests that fill the shared backends give the space back."""
    for volume in Volume.objects.filter(project=world.project):
        try:
            api.delete(context(world), volume.id, cascade=True)
        except Exception:  # a volume mid-operation stays; the next session's VG is fresh
            continue


def history(volume_id) -> list[str]:
    """What each flow run did, for an assertion message."""
    from core.cinder.models import UserMessage
    from scheduler.models import DecisionTrace

    runs = [
        f"{r.flow}#{r.attempt}@{r.host}:{r.state} {r.failure}"
        for r in FlowRun.objects.filter(volume_id=volume_id).order_by("created_at")
    ]
    traces = [
        f"trace#{t.attempt}: chosen={t.chosen} {str(t.decision)[:1500]}"
        for t in DecisionTrace.objects.filter(volume_id=volume_id)
    ]
    messages = list(
        UserMessage.objects.filter(resource_uuid=volume_id).values_list("user_message", flat=True)
    )
    return runs + traces + messages


def wait_snapshot(snapshot_id, timeout: float = 60) -> Snapshot:
    return wait_until(
        lambda: Snapshot.objects.filter(id=snapshot_id, status__in=("available", "error")).first(),
        timeout=timeout,
        what="the snapshot to settle",
    )


def wait_gone(volume_id, timeout: float = 60) -> None:
    wait_until(
        lambda: not Volume.objects.filter(id=volume_id).exists(),
        timeout=timeout,
        what=f"volume {volume_id} to be deleted",
    )


def volume_group(host: str) -> SimulatedVolumeGroup:
    """The backend's simulated VG (opening an existing group only reads its state)."""
    config = backend_config(host)
    return SimulatedVolumeGroup(
        data_dir(config), config.volume_group, config.vg_size_gb, config.lvm_type == "thin"
    )


def backing_file(volume: Volume) -> Path:
    return volume_group(volume.host).lv_path(volume.name)


def write_at(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_at(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def dedicated_type(tag: str) -> VolumeType:
    """A volume type only the test's own backends match (by their storage_tier)."""
    vtype = VolumeType.objects.create(name=f"tier-{tag}", description="test tier")
    VolumeTypeExtraSpec.objects.create(
        volume_type=vtype, key="capabilities:storage_tier", value=f"tier-{tag}"
    )
    return vtype


def add_backend(host: str, name: str, tag: str, size_gb: float = 20, **fields) -> BackendConfig:
    return BackendConfig.objects.create(
        host=host,
        backend_name=name,
        volume_backend_name=f"LVM_{name}",
        availability_zone="nova",
        vg_size_gb=size_gb,
        extra_capabilities={"storage_tier": f"tier-{tag}"},
        **fields,
    )


def retire_backends(host: str) -> None:
    """After a test stops its own agent: disable its backends, as an operator would,
    so the shared scheduler does not pick them while their heartbeats age out."""
    from core.kernel.models import Service

    BackendConfig.objects.filter(host=host).update(enabled=False)
    Service.objects.filter(host__startswith=f"{host}@").update(
        disabled=True, disabled_reason="test finished"
    )


def start_agent(processes, host: str, backends: list[str], **env: str) -> str:
    """Start ``manage.py agent`` for our own host and wait until its backends report."""
    name = f"agent {host}"
    args = ["agent", "--host", host]
    for backend in backends:
        args += ["--backend", backend]
    processes.manage(name, *args, **env)
    hosts = [f"{host}@{b}" for b in backends]
    wait_until(lambda: backends_up(hosts), timeout=60, what=f"{hosts} to report")
    return name


def unique_tag() -> str:
    return uuid.uuid4().hex[:8]


def observers_dir() -> Path:
    path = settings.VAR_DIR / "observers"
    path.mkdir(parents=True, exist_ok=True)
    return path
