"""Deleting a volume on its backend, as a small flow so each step and command is recorded.

Cinder's ``VolumeManager.delete_volume`` is plain code, not a taskflow flow; the steps are
the same (notify ``delete.start``; delete cascaded snapshots; have the driver wipe and remove
the LV; give quota back, destroy the row, notify ``delete.end``). Running them as tasks lets
the FlowRecorder keep the exact ``dd``/``lvremove`` lines, as it does for a create.
"""

import logging

from django.db import transaction
from django.utils import timezone
from taskflow.patterns import linear_flow
from taskflow.types.failure import Failure

from agent import faults
from agent.attach_flow import volume_info
from core.cinder import cleanable, messages, quota
from core.cinder.models import Snapshot, Volume
from core.kernel import events, flows
from core.kernel.recorder import failure_class_names

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_delete_manager"
DELETING = ("deleting", "error_managing_deleting")


def destroy_snapshot(snapshot: Snapshot) -> None:
    """The row goes (only while ``deleting``) and, if it went, its quota is given back."""
    deleted, _ = Snapshot.objects.filter(id=snapshot.id, status="deleting").delete()
    if deleted and snapshot.use_quota:
        quota.release(
            snapshot.project_id,
            quota.snapshot_deltas(snapshot.volume_size, snapshot.volume_type.name),
        )


class DeleteTask(flows.CinderTask):
    module = "cinder.volume.manager"
    addons = ("volume:delete",)


class NotifyDeleteStartTask(DeleteTask):
    """Sends ``volume.delete.start``. Reversion strategy: N/A."""

    def __init__(self, host: str):
        super().__init__(addons=("volume:delete", "delete.start"))
        self.host = host

    def execute(self, volume_id):
        volume = Volume.objects.get(id=volume_id)
        return {
            "event_type": messages.notify_volume_usage(volume, "delete.start", self.host).event_type
        }


class DeleteVolumeOnBackendTask(DeleteTask):
    """Deletes cascaded snapshots, then the volume's LV (zeroed first per ``volume_clear``).

    Reversion strategy: the volume becomes ``error_deleting`` (or ``available`` again
    when the driver says it is busy, as Cinder does for VolumeIsBusy).
    """

    def __init__(self, driver, host: str):
        super().__init__()
        self.driver = driver
        self.host = host

    def execute(self, volume_id, cascade):
        faults.apply(self.host, "delete")
        removed = []
        if cascade:
            for snapshot in Snapshot.objects.filter(volume_id=volume_id, status="deleting"):
                self.driver.delete_snapshot(snapshot.name, snapshot.volume_size)
                with transaction.atomic():
                    destroy_snapshot(snapshot)
                removed.append(snapshot.name)
        volume = Volume.objects.get(id=volume_id)
        self.driver.remove_export(volume_info(volume))  # as Cinder: an export left goes first
        # The LV is named after name_id once a migration pointed the volume at another's.
        self.driver.delete_volume(str(volume.name_id or volume.id), volume.size)
        return {"removed": [*removed, volume.name], "volume_clear": self.driver.config.volume_clear}

    def revert(self, volume_id, result, flow_failures=None, **kwargs):
        if not isinstance(result, Failure):
            return
        busy = "VolumeIsBusy" in failure_class_names(result)
        status = "available" if busy else "error_deleting"
        with transaction.atomic():
            Volume.objects.filter(id=volume_id, status__in=DELETING).update(
                status=status, updated_at=timezone.now()
            )
            cleanable.finish("VOLUME", volume_id)
        LOG.error("Delete of volume %s failed; now %s", volume_id, status)


class DeleteVolumeEntryTask(DeleteTask):
    """Marks the row deleted and gives its quota back, in one transaction; ``delete.end``.

    The row is kept (Cinder soft-deletes), so the volume's page and history remain. It is
    deleted only while still ``deleting``, and quota released only if this
    task deleted it, so a repeated delete job can never give quota back twice.
    Reversion strategy: N/A (last task).
    """

    def __init__(self, host: str):
        super().__init__(addons=("volume:delete", "delete.end"))
        self.host = host

    def execute(self, volume_id):
        volume = Volume.objects.select_related("volume_type").get(id=volume_id)
        with transaction.atomic():
            deleted = Volume.destroy(volume_id, {"status__in": DELETING})
            if deleted and volume.use_quota and volume.status != "error_managing_deleting":
                quota.release(
                    volume.project_id, quota.volume_deltas(volume.size, volume.volume_type.name)
                )
            cleanable.finish("VOLUME", volume_id)
        if deleted:
            messages.notify_volume_usage(volume, "delete.end", self.host)
        events.volume_changed(volume_id, volume.project_id)
        return {"deleted": bool(deleted)}


def get_flow(driver, host: str) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        NotifyDeleteStartTask(host),
        DeleteVolumeOnBackendTask(driver, host),
        DeleteVolumeEntryTask(host),
    )
