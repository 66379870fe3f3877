"""The manager flow, ``volume_create_manager``: create the volume on this backend.

A failure reverts the flow; OnFailureRescheduleTask's revert then either
casts a new scheduling request (another attempt) or sets the volume ``error``.
"""

import logging
import os
import shutil
import traceback

from django.db import transaction
from django.utils import timezone
from taskflow.patterns import linear_flow

from agent import faults
from agent.storage.exception import LVMDriverError
from core.cinder import cleanable, exceptions, messages
from core.cinder.models import Image, Snapshot, Volume
from core.kernel import events, flows, queues
from core.kernel.recorder import failure_class_names
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_create_manager"
CREATING = ("creating", "downloading")
# The tasks after ExtractVolumeRefTask take the volume it read, as ``volume``.
REFRESHED = {"volume": "refreshed"}

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


class ManagerTask(flows.CinderTask):
    module = "cinder.volume.flows.manager.create_volume"


class ExtractVolumeRefTask(ManagerTask):
    """Re-reads the volume (it may have been deleted since scheduling) and hands the object
    on: the later tasks take it as ``volume``, as Cinder's take its refreshed Volume.

    Reversion strategy: N/A (``set_error=False`` in the create flow).
    """

    default_provides = "refreshed"

    def execute(self, volume_id):
        volume = Volume.objects.by_id(volume_id)
        if volume is None:
            raise exceptions.VolumeNotFound(volume_id=volume_id)
        return volume


class OnFailureRescheduleTask(ManagerTask):
    """Does nothing forward; its revert decides: reschedule, or ``error``.

    Reversion strategy: if rescheduling is allowed and no failure is of a
    kind another backend would not fix, clear the host, cast a new
    scheduling request with the ``retry`` record, and clean up what this
    backend may have half-created; otherwise set the volume ``error``.
    The revert result (True when rescheduled) is read by the manager.
    """

    def __init__(self, driver, allow_reschedule: bool = True, on_reschedule=None):
        super().__init__()
        self.driver = driver
        self.allow_reschedule = allow_reschedule
        # Called before the new scheduling request is cast (the agent refreshes its
        # capability report there, so the retry sees this backend as it now is).
        self.on_reschedule = on_reschedule

    def execute(self, context, request_spec, filter_properties, volume_id):
        return None

    def revert(self, context, request_spec, filter_properties, volume_id, flow_failures, **kwargs):
        retry = filter_properties.get("retry")
        if not (self.allow_reschedule and request_spec and retry):
            return self._error_out(volume_id, "rescheduling is disabled")
        names = set().union(*(failure_class_names(f) for f in flow_failures.values()))
        if names & NO_RESCHEDULE:
            return self._error_out(volume_id, f"{sorted(names & NO_RESCHEDULE)} is not retried")
        first = next(iter(flow_failures.values()))
        if self.on_reschedule is not None:
            try:
                self.on_reschedule()
            except Exception:  # a report is a courtesy; the reschedule must still go out
                LOG.exception("Could not refresh the capability report before rescheduling")
        retry["exc"] = (
            traceback.format_exception_only(first.exception)[-1:]
            if first.exception
            else [first.exception_str]
        )
        request_spec = dict(request_spec, volume_id=volume_id)
        if not self._hand_back(context, volume_id, request_spec, filter_properties):
            LOG.info("Volume %s moved on while it failed here; not rescheduled", volume_id)
            return False
        try:
            self.driver.delete_volume(volume_id)
        except Exception:  # best effort, as Cinder's _post_reschedule
            LOG.debug("Nothing to clean up for %s", volume_id, exc_info=True)
        return True

    @staticmethod
    def _hand_back(context, volume_id, request_spec, filter_properties) -> bool:
        """Unplace the volume and hand its work back to the scheduler, both or neither."""
        with transaction.atomic():
            unplaced = Volume.conditional_update(
                volume_id,
                {"status__in": CREATING},
                status="creating",
                host=None,
                scheduled_at=timezone.now(),
            )
            if unplaced and scheduler_rpcapi.create_volume(
                context,
                volume_id,
                request_spec,
                filter_properties,
                from_job=queues.current_job_id(),
            ):
                return True
            transaction.set_rollback(True)
            return False

    @staticmethod
    def _error_out(volume_id: str, why: str) -> bool:
        LOG.error("Volume %s: create failed (%s)", volume_id, why)
        with transaction.atomic():
            Volume.conditional_update(volume_id, {"status__in": CREATING}, status="error")
            cleanable.finish("VOLUME", volume_id)
        return False


class ExtractVolumeSpecTask(ManagerTask):
    """Works out what to create from: ``raw``, ``snap``, ``source_vol`` or ``image``.

    The type is chosen in Cinder's order: the volume's snapshot, its source
    volume, the request's image, else an empty (raw) volume.
    Reversion strategy: N/A (as coded in Cinder it restores nothing).
    """

    default_provides = "volume_spec"

    def execute(self, volume, request_spec):
        spec = {
            "status": volume.status,
            "type": "raw",
            "volume_id": str(volume.id),
            "volume_name": f"volume-{volume.id}",
            "volume_size": volume.size,
        }
        image_id = (request_spec or {}).get("image_id") or volume.image_id
        if volume.snapshot_id:
            spec.update(type="snap", snapshot_id=str(volume.snapshot_id))
        elif volume.source_volid:
            source = Volume.objects.filter(id=volume.source_volid).first()
            spec.update(
                type="source_vol",
                source_volid=str(volume.source_volid),
                source_volstatus=source.status if source else None,
            )
        elif image_id:
            image = Image.objects.filter(id=image_id).first()
            spec.update(
                type="image",
                image_id=str(image_id),
                image_location=str(image.path) if image and image.path else None,
                image_meta=_image_meta(image) if image else None,
            )
        return spec


def _image_meta(image: Image) -> dict:
    return {
        "id": str(image.id),
        "name": image.name,
        "status": image.status,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "min_disk": image.min_disk,
    }


class NotifyVolumeActionTask(ManagerTask):
    """Sends ``volume.<event>`` with Cinder's usage payload.

    Reversion strategy: N/A (a notification cannot be unsent).
    """

    def __init__(self, event_suffix: str, host: str, **kwargs):
        super().__init__(addons=("volume:create", event_suffix), **kwargs)
        self.event_suffix = event_suffix
        self.host = host

    def execute(self, volume):
        note = messages.notify_volume_usage(volume, self.event_suffix, self.host)
        return {"event_type": note.event_type}


class CreateVolumeFromSpecTask(ManagerTask):
    """Has the driver create the logical volume from the spec's source.

    ``raw`` is an ``lvcreate``; ``snap`` and ``source_vol`` copy the source's
    data (a thin snapshot, or a new LV and ``dd``); ``image`` creates the LV,
    sets the volume ``downloading`` and writes the image with ``qemu-img``.
    Reversion strategy: N/A; the half-created volume is cleaned up by
    OnFailureRescheduleTask's revert, as in Cinder.
    """

    SUPPORTED_DISK_FORMATS = ("raw", "qcow2")

    def __init__(self, driver, host: str):
        super().__init__()
        self.driver = driver
        self.host = host

    def execute(self, context, volume_spec):
        kind = volume_spec["type"]
        create = {
            "raw": self._create_raw_volume,
            "snap": self._create_from_snapshot,
            "source_vol": self._create_from_source_volume,
            "image": self._create_from_image,
        }.get(kind)
        if create is None:
            raise exceptions.VolumeTypeNotFound(volume_type_id=kind)
        try:
            faults.apply(self.host, "create", volume_spec["volume_id"])
            create(volume_spec)
        except Exception as error:
            messages.driver_failed(context, volume_spec["volume_id"], error)
            raise
        return {"volume_name": volume_spec["volume_name"], "size": volume_spec["volume_size"]}

    def _create_raw_volume(self, spec: dict) -> None:
        self.driver.create_volume(spec["volume_id"], spec["volume_size"])

    def _create_from_snapshot(self, spec: dict) -> None:
        snapshot = Snapshot.objects.filter(id=spec["snapshot_id"]).first()
        if snapshot is None:
            raise exceptions.SnapshotNotFound(snapshot_id=spec["snapshot_id"])
        self.driver.create_volume_from_snapshot(
            spec["volume_id"], spec["volume_size"], snapshot.name, snapshot.volume_size
        )

    def _create_from_source_volume(self, spec: dict) -> None:
        source = Volume.objects.filter(id=spec["source_volid"]).first()
        if source is None:
            raise exceptions.VolumeNotFound(volume_id=spec["source_volid"])
        self.driver.create_cloned_volume(
            spec["volume_id"], spec["volume_size"], str(source.name_id or source.id), source.size
        )

    def _create_from_image(self, spec: dict) -> None:
        image_id, meta = spec["image_id"], spec.get("image_meta")
        location = spec.get("image_location")
        if meta is None or not location:
            raise exceptions.ImageNotFound(image_id=image_id)
        if meta["disk_format"] not in self.SUPPORTED_DISK_FORMATS:
            raise exceptions.ImageUnacceptable(
                image_id=image_id, reason=f"Unsupported image format {meta['disk_format']}"
            )
        free = shutil.disk_usage(os.path.dirname(location)).free
        if (meta.get("size") or 0) > free:
            raise exceptions.ImageTooBig(
                image_id=image_id,
                reason=f"image of {meta['size']} bytes, {free} bytes free for conversion",
            )
        volume_id = spec["volume_id"]
        self.driver.create_volume(volume_id, spec["volume_size"])
        Volume.conditional_update(volume_id, {"status": "creating"}, status="downloading")
        events.volume_changed(volume_id, Volume.objects.get(id=volume_id).project_id)
        try:
            self.driver.copy_image_to_volume(
                volume_id, location, spec["volume_size"], disk_format=meta["disk_format"]
            )
        except LVMDriverError as error:
            if type(error).__name__ == "ImageUnacceptable":
                raise
            raise exceptions.ImageCopyFailure(reason=str(error)) from error


class CreateVolumeOnFinishTask(ManagerTask):
    """Marks the volume ``available`` and sends ``volume.create.end``.

    Only a volume still being created here becomes ``available`` (compare-and-swap): one
    that was cleaned up, deleted or moved meanwhile is left as it is, and the job ends.
    Reversion strategy: N/A (the volume exists and is usable).
    """

    def __init__(self, driver, host: str, **kwargs):
        super().__init__(addons=("volume:create", "create.end"), **kwargs)
        self.driver = driver
        self.host = host

    def execute(self, volume):
        now = timezone.now()
        finished = {"status": "available", "launched_at": now, "updated_at": now}
        with transaction.atomic():
            won = Volume.conditional_update(
                volume.id, {"status__in": CREATING, "host": self.host}, **finished
            )
            cleanable.finish("VOLUME", volume.id)
        if not won:
            LOG.warning("Volume %s moved on while it was created here; left as it is", volume.id)
            if not Volume.objects.filter(id=volume.id).exists():
                self.driver.delete_volume(str(volume.id))  # deleted meanwhile: no orphan LV
            return {"status": "moved on"}
        for field, value in finished.items():  # what was saved, as Cinder's volume.save()
            setattr(volume, field, value)
        messages.notify_volume_usage(volume, "create.end", self.host)
        return {"status": volume.status}


def get_flow(
    driver, host: str, allow_reschedule: bool = True, on_reschedule=None
) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        ExtractVolumeRefTask(),
        OnFailureRescheduleTask(driver, allow_reschedule, on_reschedule),
        ExtractVolumeSpecTask(rebind=REFRESHED),
        NotifyVolumeActionTask("create.start", host, rebind=REFRESHED),
        CreateVolumeFromSpecTask(driver, host),
        CreateVolumeOnFinishTask(driver, host, rebind=REFRESHED),
    )
