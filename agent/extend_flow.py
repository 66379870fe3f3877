"""Extending a volume on its backend (Cinder's ``VolumeManager.extend_volume``).

Cinder runs it as one manager method; the steps are the same here, run as tasks so each
is recorded with its command: notify ``resize.start``, ``lvextend`` through the driver,
then commit the reserved growth with the new size and notify ``resize.end``. A driver
failure leaves the volume ``error_extending`` and rolls the reservation back, as Cinder.
"""

import logging

from django.db import transaction
from taskflow.patterns import linear_flow
from taskflow.types.failure import Failure

from agent import faults
from agent.attach_flow import volume_info
from core.cinder import cleanable, messages, quota
from core.cinder.models import Volume
from core.kernel import events, flows

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_extend_manager"
ADDONS = ("volume:extend",)


class ManagerMethodTask(flows.CinderTask):
    module = "cinder.volume.manager.VolumeManager.extend_volume"
    addons = ADDONS


class NotifyResizeStartTask(ManagerMethodTask):
    """Sends ``volume.resize.start`` (Cinder's event for an extend). Reversion: N/A."""

    def __init__(self, host: str):
        super().__init__()
        self.host = host

    def execute(self, volume_id):
        volume = Volume.objects.get(id=volume_id)
        return {
            "event_type": messages.notify_volume_usage(volume, "resize.start", self.host).event_type
        }


class ExtendVolumeOnBackendTask(ManagerMethodTask):
    """``driver.extend_volume``: ``lvextend -L <new size>g``.

    Reversion strategy: the volume becomes ``error_extending``, the growth's reservation
    is rolled back and the user told (``VOLUME_VOLUME_007_010``).
    """

    def __init__(self, driver, host: str):
        super().__init__()
        self.driver = driver
        self.host = host

    def execute(self, volume_id, new_size):
        faults.apply(self.host, "extend")
        volume = Volume.objects.get(id=volume_id)
        self.driver.extend_volume(str(volume.name_id or volume.id), new_size, volume_info(volume))
        return {"lv": volume.name, "size_gb": new_size}

    def revert(self, volume_id, reservations, result, flow_failures=None, **kwargs):
        if not isinstance(result, Failure):
            return
        with transaction.atomic():
            volume = Volume.objects.get(id=volume_id)
            if Volume.conditional_update(
                volume_id, {"status": "extending"}, status="error_extending"
            ):
                quota.rollback(reservations)
                messages.operation_failed(
                    volume, "extend", "driver_failed_extend", result.exception
                )
            cleanable.finish("VOLUME", volume_id)
        events.volume_changed(volume_id, volume.project_id)


class FinishExtendTask(ManagerMethodTask):
    """Commits the reserved growth with the new size, back to the status it had
    (``available``, or ``in-use`` when attached); ``volume.resize.end``. Reversion: N/A."""

    def __init__(self, host: str):
        super().__init__()
        self.host = host

    def execute(self, volume_id, new_size, reservations):
        volume = Volume.objects.get(id=volume_id)
        with transaction.atomic():
            won = Volume.conditional_update(
                volume_id,
                {"status": "extending"},
                size=new_size,
                status=volume.previous_status or "available",
                previous_status="extending",
            )
            if won:
                quota.commit(reservations)
            else:
                quota.rollback(reservations)
            cleanable.finish("VOLUME", volume_id)
        if won:
            volume.refresh_from_db()
            messages.notify_volume_usage(volume, "resize.end", self.host)
        events.volume_changed(volume_id, volume.project_id)
        return {"size": new_size, "status": volume.status, "committed": won}


def get_flow(driver, host: str) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        NotifyResizeStartTask(host),
        ExtendVolumeOnBackendTask(driver, host),
        FinishExtendTask(host),
    )
