"""The manager flow, ``volume_create_manager``: create the volume on this backend.

A failure reverts the flow; OnFailureRescheduleTask's revert then either
casts a new scheduling request (another attempt) or sets the volume ``error``.
"""

import logging
import traceback

from django.utils import timezone
from taskflow import task
from taskflow.patterns import linear_flow

from agent import faults
from portal.recorder import failure_type_names
from scheduler import rpcapi as scheduler_rpcapi
from volumes import exceptions, messages
from volumes.models import Volume

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_create_manager"

# Failures that another backend would not fix (Cinder's no_reschedule_types).
NO_RESCHEDULE = {
    "ImageCopyFailure",
    "MetadataCopyFailure",
    "MetadataUpdateFailure",
    "VolumeNotFound",
    "SnapshotNotFound",
    "VolumeTypeNotFound",
    "ImageConversionNotAllowed",
    "ImageUnacceptable",
    "ImageTooBig",
    "InvalidSignatureImage",
    "ImageSignatureVerificationException",
}


class CinderTask(task.Task):
    module = "cinder.volume.flows.manager.create_volume"

    def __init__(self, addons=("volume:create",), **kwargs):
        name = f"{self.module}.{type(self).__name__};{', '.join(addons)}"
        super().__init__(name=name, **kwargs)


def volume_dict(volume: Volume) -> dict:
    return {
        "id": str(volume.id),
        "status": volume.status,
        "size": volume.size,
        "host": volume.host,
        "availability_zone": volume.availability_zone,
        "volume_type_id": str(volume.volume_type_id),
    }


class ExtractVolumeRefTask(CinderTask):
    """Re-reads the volume (it may have been deleted since scheduling).

    Reversion strategy: N/A (``set_error=False`` in the create flow).
    """

    default_provides = "refreshed"

    def execute(self, volume_id):
        volume = Volume.objects.filter(id=volume_id).first()
        if volume is None:
            raise exceptions.VolumeNotFound(volume_id=volume_id)
        return volume_dict(volume)


class OnFailureRescheduleTask(CinderTask):
    """Does nothing forward; its revert decides: reschedule, or ``error``.

    Reversion strategy: if rescheduling is allowed and no failure is of a
    kind another backend would not fix, clear the host, cast a new
    scheduling request with the ``retry`` record, and clean up what this
    backend may have half-created; otherwise set the volume ``error``.
    The revert result (True when rescheduled) is read by the manager.
    """

    def __init__(self, driver, allow_reschedule: bool = True):
        super().__init__()
        self.driver = driver
        self.allow_reschedule = allow_reschedule

    def execute(self, context, request_spec, filter_properties, volume_id):
        return None

    def revert(self, context, request_spec, filter_properties, volume_id, flow_failures, **kwargs):
        retry = filter_properties.get("retry")
        if not (self.allow_reschedule and request_spec and retry):
            return self._error_out(volume_id, "rescheduling is disabled")
        names = {name for f in flow_failures.values() for name in failure_type_names(f)}
        if names & NO_RESCHEDULE:
            return self._error_out(volume_id, f"{sorted(names & NO_RESCHEDULE)} is not retried")
        first = next(iter(flow_failures.values()))
        Volume.objects.filter(id=volume_id).update(
            scheduled_at=timezone.now(), host=None, updated_at=timezone.now()
        )
        retry["exc"] = (
            traceback.format_exception_only(first.exception)[-1:]
            if first.exception
            else [first.exception_str]
        )
        request_spec = dict(request_spec, volume_id=volume_id)
        scheduler_rpcapi.create_volume(context, volume_id, request_spec, filter_properties)
        try:
            self.driver.delete_volume(volume_id)
        except Exception:  # best effort, as Cinder's _post_reschedule
            LOG.debug("Nothing to clean up for %s", volume_id, exc_info=True)
        return True

    @staticmethod
    def _error_out(volume_id: str, why: str) -> bool:
        LOG.error("Volume %s: create failed (%s)", volume_id, why)
        Volume.objects.filter(id=volume_id).update(status="error", updated_at=timezone.now())
        return False


class ExtractVolumeSpecTask(CinderTask):
    """Works out what to create from (here: ``raw``, an empty volume).

    Reversion strategy: N/A (as coded in Cinder it restores nothing).
    """

    default_provides = "volume_spec"

    def execute(self, refreshed, request_spec):
        return {
            "status": refreshed["status"],
            "type": "raw",
            "volume_id": refreshed["id"],
            "volume_name": f"volume-{refreshed['id']}",
            "volume_size": refreshed["size"],
        }


class NotifyVolumeActionTask(CinderTask):
    """Sends ``volume.<event>`` with Cinder's usage payload.

    Reversion strategy: N/A (a notification cannot be unsent).
    """

    def __init__(self, event_suffix: str, host: str):
        super().__init__(addons=("volume:create", event_suffix))
        self.event_suffix = event_suffix
        self.host = host

    def execute(self, volume_id):
        volume = Volume.objects.get(id=volume_id)
        note = messages.notify_volume_usage(volume, self.event_suffix, self.host)
        return {"event_type": note.event_type}


class CreateVolumeFromSpecTask(CinderTask):
    """Has the driver create the logical volume (the ``lvcreate`` happens here).

    Reversion strategy: N/A; the half-created volume is cleaned up by
    OnFailureRescheduleTask's revert, as in Cinder.
    """

    def __init__(self, driver, host: str):
        super().__init__()
        self.driver = driver
        self.host = host

    def execute(self, context, volume_spec):
        try:
            faults.apply(self.host, "create")
            self.driver.create_volume(volume_spec["volume_id"], volume_spec["volume_size"])
        except Exception as error:
            messages.driver_failed(context, volume_spec["volume_id"], error)
            raise
        return {"volume_name": volume_spec["volume_name"], "size": volume_spec["volume_size"]}


class CreateVolumeOnFinishTask(CinderTask):
    """Marks the volume ``available`` and sends ``volume.create.end``.

    Reversion strategy: N/A (the volume exists and is usable).
    """

    def __init__(self, host: str):
        super().__init__(addons=("volume:create", "create.end"))
        self.host = host

    def execute(self, volume_id):
        now = timezone.now()
        Volume.objects.filter(id=volume_id).update(
            status="available", launched_at=now, updated_at=now
        )
        volume = Volume.objects.get(id=volume_id)
        messages.notify_volume_usage(volume, "create.end", self.host)
        return {"status": volume.status}


def get_flow(driver, host: str, allow_reschedule: bool = True) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        ExtractVolumeRefTask(),
        OnFailureRescheduleTask(driver, allow_reschedule),
        ExtractVolumeSpecTask(),
        NotifyVolumeActionTask("create.start", host),
        CreateVolumeFromSpecTask(driver, host),
        CreateVolumeOnFinishTask(host),
    )
