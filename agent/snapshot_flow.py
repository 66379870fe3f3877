"""Making a snapshot on its volume's backend (Cinder's ``VolumeManager.create_snapshot``).

Cinder runs it as one manager method; its steps run here as tasks so a snapshot shows on
its volume's page like any operation, with the ``lvcreate --snapshot`` it ran: notify
``snapshot.create.start``, the driver's snapshot, then ``available`` (or ``error``) and
``snapshot.create.end``.
"""

import logging

from django.db import transaction
from taskflow.patterns import linear_flow
from taskflow.types.failure import Failure

from agent import faults
from core.cinder import cleanable, messages
from core.cinder.models import Snapshot
from core.kernel import events, flows

LOG = logging.getLogger(__name__)
FLOW_NAME = "snapshot_create_manager"


class SnapshotMethodTask(flows.CinderTask):
    module = "cinder.volume.manager.VolumeManager.create_snapshot"
    addons = ("snapshot:create",)


def _snapshot(snapshot_id) -> Snapshot:
    return Snapshot.objects.select_related("volume").get(id=snapshot_id)


class NotifySnapshotStartTask(SnapshotMethodTask):
    """Sends ``snapshot.create.start``. Reversion strategy: N/A."""

    def __init__(self, host: str):
        super().__init__()
        self.host = host

    def execute(self, snapshot_id):
        note = messages.notify_snapshot_usage(_snapshot(snapshot_id), "create.start", self.host)
        return {"event_type": note.event_type}


class CreateSnapshotOnBackendTask(SnapshotMethodTask):
    """``driver.create_snapshot``: ``lvcreate --snapshot`` of the volume's LV.

    Reversion strategy: the snapshot becomes ``error`` (its quota stays counted until it
    is deleted, as Cinder's).
    """

    def __init__(self, driver, host: str):
        super().__init__()
        self.driver = driver
        self.host = host

    def execute(self, snapshot_id):
        faults.apply(self.host, "snapshot")
        snapshot = _snapshot(snapshot_id)
        volume = snapshot.volume
        lv = self.driver.create_snapshot(snapshot.name, str(volume.name_id or volume.id))
        return {"lv": lv}

    def revert(self, snapshot_id, result, flow_failures=None, **kwargs):
        if not isinstance(result, Failure):
            return
        snapshot = _snapshot(snapshot_id)
        with transaction.atomic():
            Snapshot.conditional_update(snapshot.id, {"status": "creating"}, status="error")
            cleanable.finish("SNAPSHOT", snapshot_id)
        events.volume_changed(snapshot.volume_id, snapshot.project_id)


class FinishSnapshotTask(SnapshotMethodTask):
    """``available`` at 100%, and ``snapshot.create.end``. Reversion strategy: N/A."""

    def __init__(self, host: str):
        super().__init__()
        self.host = host

    def execute(self, snapshot_id):
        snapshot = _snapshot(snapshot_id)
        with transaction.atomic():
            won = Snapshot.conditional_update(
                snapshot.id, {"status": "creating"}, status="available", progress="100%"
            )
            cleanable.finish("SNAPSHOT", snapshot_id)
        if won:
            snapshot.refresh_from_db()
            messages.notify_snapshot_usage(snapshot, "create.end", self.host)
        events.volume_changed(snapshot.volume_id, snapshot.project_id)
        return {"status": "available" if won else "moved on"}


def get_flow(driver, host: str) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        NotifySnapshotStartTask(host),
        CreateSnapshotOnBackendTask(driver, host),
        FinishSnapshotTask(host),
    )
