"""The API flow, ``volume_create_api``: Cinder's five tasks, run in the web request.

Tasks are thin: they call the quota engine and the models and hand plain
values on (ids and dicts), so every input and result can be shown on the page.
"""

import logging
import time

from django.conf import settings
from django.db import transaction
from taskflow.patterns import linear_flow
from taskflow.types.failure import Failure

from core.cinder import cleanable, exceptions, quota
from core.cinder.models import Image, Snapshot, Volume, VolumeType
from core.kernel import flows
from core.kernel.hosts import extract_host
from core.kernel.models import Service
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_create_api"


class ApiTask(flows.CinderTask):
    module = "cinder.volume.flows.api.create_volume"


def availability_zones() -> set[str]:
    """Known zones: those of volume services, as Cinder derives them."""
    zones = set(
        Service.objects.filter(binary="cinder-volume").values_list("availability_zone", flat=True)
    )
    return zones or {settings.DEFAULT_AVAILABILITY_ZONE}


AZ_CACHE_DURATION = 3600.0  # Cinder's az_cache_duration
_zones: tuple[float, set[str]] = (float("-inf"), set())


def known_zones(wanted: set[str]) -> set[str]:
    """The zones a create checks against, through Cinder's cache: read again when older
    than ``AZ_CACHE_DURATION`` or when the request names a zone the cache does not know."""
    global _zones
    read_at, zones = _zones
    if time.monotonic() - read_at > AZ_CACHE_DURATION or not wanted <= zones:
        _zones = read_at, zones = time.monotonic(), availability_zones()
    return zones


# Source statuses Cinder proceeds from (cinder/volume/flows/api/create_volume.py).
SNAPSHOT_PROCEED_STATUS = ("available",)
SRC_VOL_PROCEED_STATUS = ("available", "in-use")
GiB = 1024**3


class ExtractVolumeRequestTask(ApiTask):
    """Validates and normalises the request: sources, size, type, zone.

    At most one source (snapshot, image, source volume); each must exist in
    the caller's project and be in a status Cinder proceeds from; the size
    defaults to the source's and may not be smaller than it.
    Reversion strategy: N/A (it changes nothing).
    """

    default_provides = {
        "size",
        "volume_type",
        "volume_type_id",
        "volume_type_name",
        "availability_zones",
        "snapshot_id",
        "source_volid",
        "image_id",
    }

    def execute(
        self, context, size, volume_type, availability_zone, snapshot_id, source_volid, image_id
    ):
        given = {"snapshot": snapshot_id, "imageRef": image_id, "source volume": source_volid}
        if sum(1 for value in given.values() if value) > 1:
            raise exceptions.InvalidInput(
                reason="May specify only one of backup, imageRef, snapshot, source volume"
            )
        snapshot = self._extract_snapshot(context, snapshot_id)
        source = self._extract_source_volume(context, source_volid)
        image = self._extract_image(context, image_id)
        size = self._extract_size(size, snapshot, source)
        if image is not None:
            self._check_image_metadata(image, size)
        vtype = self._extract_volume_type(context, volume_type, snapshot, source)
        specs = vtype.extra_specs_dict()
        origin = source or (snapshot.volume if snapshot else None)
        zones = self._extract_availability_zones(availability_zone, vtype, specs, origin, snapshot)
        return {
            "size": size,
            # As Cinder's: the type with its extra specs, which the cast hands the scheduler.
            "volume_type": {"id": str(vtype.id), "name": vtype.name, "extra_specs": specs},
            "volume_type_id": str(vtype.id),
            "volume_type_name": vtype.name,
            "availability_zones": zones,
            "snapshot_id": str(snapshot.id) if snapshot else None,
            "source_volid": str(source.id) if source else None,
            "image_id": str(image.id) if image else None,
        }

    @staticmethod
    def _extract_snapshot(context, snapshot_id) -> Snapshot | None:
        if not snapshot_id:
            return None
        snapshot = (
            Snapshot.objects.select_related("volume")
            .filter(id=_uuid_or_none(snapshot_id), project_id=context["project_id"])
            .first()
        )
        if snapshot is None:
            raise exceptions.SnapshotNotFound(snapshot_id=snapshot_id)
        if snapshot.status not in SNAPSHOT_PROCEED_STATUS:
            raise exceptions.InvalidSnapshot(
                reason="Originating snapshot status must be one of 'available' values"
            )
        return snapshot

    @staticmethod
    def _extract_source_volume(context, source_volid) -> Volume | None:
        if not source_volid:
            return None
        source = Volume.objects.filter(
            id=_uuid_or_none(source_volid), project_id=context["project_id"]
        ).first()
        if source is None:
            raise exceptions.VolumeNotFound(volume_id=source_volid)
        if source.status not in SRC_VOL_PROCEED_STATUS:
            raise exceptions.InvalidVolume(
                reason="Unable to create a volume from an originating source volume when its"
                " status is not one of 'available', 'in-use' values"
            )
        return source

    @staticmethod
    def _extract_image(context, image_id) -> Image | None:
        if not image_id:
            return None
        image = Image.objects.filter(id=_uuid_or_none(image_id)).first()
        if image is None or not image.usable_by(context["project_id"]):
            raise exceptions.ImageNotFound(image_id=image_id)
        return image

    @staticmethod
    def _extract_size(size, snapshot=None, source=None) -> int:
        if size in (None, "") and snapshot is not None:
            size = snapshot.volume_size
        elif size in (None, "") and source is not None:
            size = source.size
        try:
            value = int(size)
        except (TypeError, ValueError):
            value = 0
        if isinstance(size, bool) or value <= 0:
            raise exceptions.InvalidInput(
                reason=f"Volume size '{size}' must be an integer and greater than 0"
            )
        if snapshot is not None and value < snapshot.volume_size:
            raise exceptions.InvalidInput(
                reason=f"Volume size '{value}'GB cannot be smaller than the snapshot size "
                f"{snapshot.volume_size}GB. They must be >= original snapshot size."
            )
        if source is not None and value < source.size:
            raise exceptions.InvalidInput(
                reason=f"Volume size '{value}'GB cannot be smaller than original volume size "
                f" {source.size}GB. They must be >= original volume size."
            )
        return value

    @staticmethod
    def _check_image_metadata(image: Image, size: int) -> None:
        """Cinder's volume_utils.check_image_metadata: active, fits, meets min_disk."""
        if image.status != "active":
            raise exceptions.InvalidInput(reason=f"Image {image.id} is not active.")
        image_gb = ((image.size or 0) + GiB - 1) // GiB
        if image_gb > size:
            raise exceptions.InvalidInput(
                reason=f"Size of specified image {image_gb}GB is larger than volume size {size}GB."
            )
        if size < image.min_disk:
            raise exceptions.InvalidInput(
                reason=f"Volume size {size}GB cannot be smaller than the image minDisk size "
                f"{image.min_disk}GB."
            )

    @staticmethod
    def _extract_volume_type(context, volume_type, snapshot=None, source=None) -> VolumeType:
        """By name or id, among the types the caller may use (a private type is found
        only by projects given access to it, and by admins)."""
        if not volume_type:
            # The source volume's type, then the snapshot's, then the default.
            if source is not None:
                return source.volume_type
            if snapshot is not None:
                return snapshot.volume_type
            return VolumeType.default()
        project_id, is_admin = context["project_id"], context.get("is_admin", False)
        found = VolumeType.usable_named(volume_type, project_id, is_admin)
        if found is None and _uuid_or_none(volume_type) is not None:
            usable = VolumeType.usable_by(project_id, is_admin)
            found = usable.filter(id=_uuid_or_none(volume_type)).first()
        if found is None:
            raise exceptions.VolumeTypeNotFoundByName(volume_type_name=volume_type)
        return found

    @staticmethod
    def _extract_availability_zones(
        availability_zone, vtype: VolumeType, specs: dict, origin=None, snapshot=None
    ) -> list[str]:
        if origin is not None and origin.availability_zone:
            # Inherited from the source; cloned_volume_same_az (default True) keeps it there.
            what = "snapshot" if snapshot is not None else "source volume"
            if availability_zone and availability_zone != origin.availability_zone:
                raise exceptions.InvalidInput(
                    reason=f"Volume must be in the same availability zone as the {what}"
                )
            availability_zone = origin.availability_zone
        spec = specs.get("RESKEY:availability_zones")
        zone = availability_zone or settings.DEFAULT_AVAILABILITY_ZONE
        wanted = {z.strip() for z in spec.split(",") if z.strip()} if spec else {zone}
        known = known_zones(wanted)
        if spec:
            allowed = [z.strip() for z in spec.split(",") if z.strip() in known]
            if not allowed:
                raise exceptions.Invalid(
                    f"No valid availability zones in volume type {vtype.name}: {spec}"
                )
            if availability_zone and availability_zone not in allowed:
                raise exceptions.InvalidAvailabilityZone(az=availability_zone)
            return [availability_zone] if availability_zone else allowed
        if zone not in known:
            raise exceptions.InvalidAvailabilityZone(az=zone)
        return [zone]


class QuotaReserveTask(ApiTask):
    """Reserves the volume's quota (global and per-type resources at once).

    Reversion strategy: roll the reservations back, unless they were already
    committed (then QuotaCommitTask's revert gives the usage back). If this
    process dies between reserve and commit, the reservation leaks until the
    periodic expiry rolls it back (``reservation_expire``), as in Cinder.
    """

    default_provides = {"reservations"}

    def execute(self, context, size, volume_type_name, optional_args):
        project_id = context["project_id"]
        limits = quota.get_limits(project_id)  # read once for the check and the reservation
        quota.limit_check(project_id, limits=limits, per_volume_gigabytes=size)
        deltas = quota.volume_deltas(size, volume_type_name)
        return {"reservations": quota.reserve(project_id, deltas, limits=limits)}

    def revert(self, result, optional_args, **kwargs):
        if isinstance(result, Failure) or optional_args.get("is_quota_committed"):
            return
        quota.rollback(result["reservations"])


class EntryCreateTask(ApiTask):
    """Creates the volume row, status ``creating``.

    Reversion strategy: delete the row (and its work in flight). Cinder keeps a
    committed volume in ``error`` when the cast fails; here the cast is the only task
    after the commit, and QuotaCommitTask's revert gives the usage back, so the request
    leaves nothing behind and the client is told to try again (503).
    """

    default_provides = {"volume_id", "volume_properties"}

    def execute(
        self,
        context,
        requested_volume_id,
        name,
        description,
        size,
        volume_type_id,
        availability_zones,
        metadata,
        snapshot_id,
        source_volid,
        image_id,
    ):
        origin = source_volid
        if snapshot_id:
            origin = Snapshot.objects.filter(id=snapshot_id).values_list("volume_id", flat=True)[0]
        bootable = bool(origin) and Volume.objects.filter(id=origin, bootable=True).exists()
        volume = Volume.objects.create(
            id=requested_volume_id,
            project_id=context["project_id"],
            user_id=context["user_id"],
            display_name=name or "",
            display_description=description or "",
            size=size,
            status="creating",
            attach_status="detached",
            volume_type_id=volume_type_id,
            availability_zone=availability_zones[0] if len(availability_zones) == 1 else "",
            metadata=metadata or {},
            snapshot_id=snapshot_id,
            source_volid=source_volid,
            image_id=image_id,
            bootable=bootable or bool(image_id),
        )
        properties = {
            "size": size,
            "status": "creating",
            "availability_zone": volume.availability_zone,
            "volume_type_id": volume_type_id,
            "project_id": volume.project_id,
            "user_id": volume.user_id,
        }
        return {"volume_id": str(volume.id), "volume_properties": properties}

    def revert(self, result, **kwargs):
        if isinstance(result, Failure):
            return
        with transaction.atomic():
            cleanable.drop("VOLUME", result["volume_id"])
            Volume.objects.filter(id=result["volume_id"]).delete()


class QuotaCommitTask(ApiTask):
    """Commits the reservations: the volume now counts against the project.

    Reversion strategy: give the committed usage back (a negative reserve,
    committed), since later tasks could not finish the create.
    """

    def execute(self, context, reservations, volume_properties, optional_args):
        quota.commit(reservations)
        optional_args["is_quota_committed"] = True
        return {"volume_properties": volume_properties}

    def revert(self, context, result, volume_type_name, **kwargs):
        if isinstance(result, Failure):
            return
        size = result["volume_properties"]["size"]
        try:
            quota.release(context["project_id"], quota.volume_deltas(size, volume_type_name))
        except Exception:
            LOG.exception("Failed to give quota back after a failed create")


class VolumeCastTask(ApiTask):
    """Casts the request to the scheduler, recording it as the volume's work in flight.

    A cast Redis refuses raises ServiceUnavailable (503 with Retry-After), and the
    reverts before it take the volume and its quota back. Reversion strategy: N/A (it
    is the last task; a failed cast has nothing of its own to undo).
    """

    def execute(
        self,
        context,
        volume_id,
        volume_properties,
        volume_type,
        availability_zones,
        scheduler_hints,
        snapshot_id,
        source_volid,
        image_id,
    ):
        request_spec = {
            "volume_id": volume_id,
            "volume_properties": volume_properties,
            "volume_type": volume_type,
            "availability_zones": availability_zones,
            "snapshot_id": snapshot_id,
            "source_volid": source_volid,
            "image_id": image_id,
            "resource_backend": self._resource_backend(snapshot_id, source_volid),
            "operation": "create_volume",
        }
        filter_properties = {"scheduler_hints": scheduler_hints} if scheduler_hints else {}
        scheduler_rpcapi.create_volume(
            context, volume_id, request_spec, filter_properties, strict=True, first=True
        )
        return {"request_spec": request_spec}

    @staticmethod
    def _resource_backend(snapshot_id, source_volid) -> str | None:
        """A snapshot or a clone must be made where its source lives (snapshot_same_host)."""
        if snapshot_id:
            snapshot = Snapshot.objects.select_related("volume").get(id=snapshot_id)
            return extract_host(snapshot.volume.host, "backend")
        if source_volid:
            return extract_host(Volume.objects.get(id=source_volid).host, "backend")
        return None


@flows.built_once
def get_flow() -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        ExtractVolumeRequestTask(
            rebind={
                "size": "raw_size",
                "availability_zone": "raw_availability_zone",
                "volume_type": "raw_volume_type",
                "snapshot_id": "raw_snapshot_id",
                "source_volid": "raw_source_volid",
                "image_id": "raw_image_id",
            }
        ),
        QuotaReserveTask(),
        EntryCreateTask(),
        QuotaCommitTask(),
        VolumeCastTask(),
    )


def _uuid_or_none(value):
    """A source id that is not a UUID names nothing (404), rather than a database error."""
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
