"""Reverting a volume to its latest snapshot (Cinder's ``VolumeManager.revert_to_snapshot``).

Cinder runs it as one manager method; its steps run here as tasks so each is recorded with
its commands: notify ``revert.start``, take a backup snapshot (the LVM driver keeps the base
driver's ``snapshot_revert_use_temp_snapshot``), revert through the driver (thick LVM:
``lvconvert --merge``) or, when the driver cannot (thin LVM), the generic way (a temporary
volume from the snapshot, copied over the volume with dd), then both back to ``available``,
the backup snapshot deleted and ``revert.end`` sent. A failure leaves the volume ``error``
and the snapshot ``available``, as in Cinder.
"""

import logging
import uuid

from django.db import transaction
from taskflow.patterns import linear_flow

from agent import faults
from agent.manager_tasks import ManagerMethodTask
from core.cinder import cleanable, messages
from core.cinder.models import Snapshot, Volume
from core.kernel import events

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_revert_manager"


class RevertTask(ManagerMethodTask):
    module = "cinder.volume.manager.VolumeManager.revert_to_snapshot"
    addons = ("volume:revert",)


def _lv_id(volume: Volume) -> str:
    return str(volume.name_id or volume.id)


class NotifyRevertStartTask(RevertTask):
    """Sends ``volume.revert.start`` and ``snapshot.revert.start``.

    Reversion strategy (Cinder's except block, whichever later step failed): send
    ``revert.end`` for both, the volume ``reverting`` → ``error``, the snapshot ``restoring``
    → ``available``, the user told. A backup snapshot already taken is kept, as Cinder keeps
    it: the data can be restored from it by hand.
    """

    def execute(self, volume_id, snapshot_id):
        volume = Volume.objects.get(id=volume_id)
        snapshot = Snapshot.objects.select_related("volume").get(id=snapshot_id)
        messages.notify_volume_usage(volume, "revert.start", self.host)
        messages.notify_snapshot_usage(snapshot, "revert.start", self.host)
        return {"events": ["volume.revert.start", "snapshot.revert.start"]}

    def revert(self, volume_id, snapshot_id, flow_failures=None, **kwargs):
        failure = next(iter((flow_failures or {}).values()), None)
        error = failure.exception if failure is not None else None
        volume = Volume.objects.get(id=volume_id)
        snapshot = Snapshot.objects.select_related("volume").get(id=snapshot_id)
        messages.notify_volume_usage(volume, "revert.end", self.host)
        messages.notify_snapshot_usage(snapshot, "revert.end", self.host)
        with transaction.atomic():
            if Volume.conditional_update(volume_id, {"status": "reverting"}, status="error"):
                messages.operation_failed(volume, "revert", "unknown", error)
            Snapshot.conditional_update(snapshot_id, {"status": "restoring"}, status="available")
            cleanable.finish("VOLUME", volume_id)
        events.volume_changed(volume_id, volume.project_id)


class CreateBackupSnapshotTask(RevertTask):
    """``_create_backup_snapshot``: a snapshot of the volume as it is now, kept out of quota
    (``use_quota`` False), in case the revert loses data. Reversion strategy: N/A (kept)."""

    def execute(self, volume_id):
        if not self.driver.snapshot_revert_use_temp_snapshot():
            return {"backup_snapshot_id": None}
        volume = Volume.objects.get(id=volume_id)
        backup = Snapshot.objects.create(
            volume=volume,
            project_id=volume.project_id,
            user_id=volume.user_id,
            status="creating",
            progress="0%",
            volume_size=volume.size,
            volume_type_id=volume.volume_type_id,
            use_quota=False,
            display_name=f"[revert] volume {volume.id} backup snapshot",
            display_description="This is only used for backup when reverting. If the reverting "
            "process failed, you can restore you data by creating new volume with this snapshot.",
        )
        backup = Snapshot.objects.select_related("volume").get(id=backup.id)
        messages.notify_snapshot_usage(backup, "create.start", self.host)
        try:
            self.driver.create_snapshot(backup.name, _lv_id(volume))
        except Exception:
            Snapshot.conditional_update(backup.id, {"status": "creating"}, status="error")
            raise
        Snapshot.conditional_update(
            backup.id, {"status": "creating"}, status="available", progress="100%"
        )
        backup.refresh_from_db()
        messages.notify_snapshot_usage(backup, "create.end", self.host)
        events.volume_changed(volume.id, volume.project_id)
        return {"backup_snapshot_id": str(backup.id)}


class RevertToSnapshotTask(RevertTask):
    """``_revert_to_snapshot``: the driver's revert, or ``_revert_to_snapshot_generic`` when
    the driver has none (NotImplementedError): a temporary volume from the snapshot, its data
    copied over the volume, the temporary volume deleted.

    Reversion strategy: N/A here (NotifyRevertStartTask's revert sets the statuses).
    """

    def execute(self, volume_id, snapshot_id):
        faults.apply(self.host, "revert")
        volume = Volume.objects.get(id=volume_id)
        snapshot = Snapshot.objects.get(id=snapshot_id)
        try:
            self.driver.revert_to_snapshot(_lv_id(volume), snapshot.name)
        except NotImplementedError:
            LOG.info("Driver's 'revert_to_snapshot' is not found. Try generic revert.")
            self._revert_generic(volume, snapshot)
            return {"method": "generic", "snapshot": snapshot.name}
        return {"method": "driver", "snapshot": snapshot.name}

    def _revert_generic(self, volume: Volume, snapshot: Snapshot) -> None:
        """Cinder also writes a row for the temporary volume; here it lives only as an LV."""
        temp_id = str(uuid.uuid4())
        self.driver.create_volume_from_snapshot(
            temp_id, volume.size, snapshot.name, snapshot.volume_size
        )
        try:
            self.driver.copy_volume_data(
                temp_id,
                self.driver.local_path(volume.name),
                volume.size,
                sparse=self.driver.lvm_type == "thin",  # the destination's sparse_copy_volume
            )
        finally:
            self.driver.delete_volume(temp_id)


class FinishRevertTask(RevertTask):
    """Both back to ``available`` (compare-and-swap), the backup snapshot deleted, then
    ``revert.end`` for the volume and the snapshot. Reversion strategy: N/A."""

    def execute(self, volume_id, snapshot_id, backup):
        volume = Volume.objects.get(id=volume_id)
        with transaction.atomic():
            won = Volume.conditional_update(volume_id, {"status": "reverting"}, status="available")
            Snapshot.conditional_update(snapshot_id, {"status": "restoring"}, status="available")
            cleanable.finish("VOLUME", volume_id)
        if not won:
            LOG.warning("Revert of %s finished, but its status was changed meanwhile", volume_id)
        backup_id = backup["backup_snapshot_id"]
        if backup_id:
            self._delete_backup(backup_id)
        volume.refresh_from_db()
        snapshot = Snapshot.objects.select_related("volume").get(id=snapshot_id)
        messages.notify_volume_usage(volume, "revert.end", self.host)
        messages.notify_snapshot_usage(snapshot, "revert.end", self.host)
        events.volume_changed(volume_id, volume.project_id)
        return {"status": volume.status, "backup_deleted": bool(backup_id)}

    def _delete_backup(self, backup_id: str) -> None:
        """The manager's ``delete_snapshot`` for the backup (out of quota: nothing to give)."""
        backup = Snapshot.objects.select_related("volume").get(id=backup_id)
        messages.notify_snapshot_usage(backup, "delete.start", self.host)
        self.driver.delete_snapshot(backup.name, backup.volume_size)
        Snapshot.objects.filter(id=backup_id).delete()
        messages.notify_snapshot_usage(backup, "delete.end", self.host)


def get_flow(driver, host: str) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        NotifyRevertStartTask(driver, host),
        CreateBackupSnapshotTask(driver, host, provides="backup"),
        RevertToSnapshotTask(driver, host),
        FinishRevertTask(driver, host),
    )
