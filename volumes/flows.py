"""The API flow, ``volume_create_api``: Cinder's five tasks, run in the web request.

Tasks are thin: they call the quota engine and the models and hand plain
values on (ids and dicts), so every input and result can be shown on the page.
"""

import logging

from django.conf import settings
from taskflow import task
from taskflow.patterns import linear_flow
from taskflow.types.failure import Failure

from portal.models import Service
from scheduler import rpcapi as scheduler_rpcapi
from volumes import exceptions, quota
from volumes.models import Volume, VolumeType

LOG = logging.getLogger(__name__)
ACTION = "volume:create"
FLOW_NAME = "volume_create_api"


class CinderTask(task.Task):
    """Names tasks as Cinder does: ``<module>.<Class>;volume:create``."""

    module = "cinder.volume.flows.api.create_volume"

    def __init__(self, addons=(ACTION,), **kwargs):
        name = f"{self.module}.{type(self).__name__};{', '.join(addons)}"
        super().__init__(name=name, **kwargs)


def availability_zones() -> set[str]:
    """Known zones: those of volume services, as Cinder derives them."""
    zones = set(
        Service.objects.filter(binary="cinder-volume").values_list("availability_zone", flat=True)
    )
    return zones or {settings.DEFAULT_AVAILABILITY_ZONE}


class ExtractVolumeRequestTask(CinderTask):
    """Validates and normalises the request (size, type, zone).

    Reversion strategy: N/A (it changes nothing).
    """

    default_provides = {"size", "volume_type_id", "volume_type_name", "availability_zones"}

    def execute(self, size, volume_type, availability_zone):
        size = self._extract_size(size)
        vtype = self._extract_volume_type(volume_type)
        zones = self._extract_availability_zones(availability_zone, vtype)
        return {
            "size": size,
            "volume_type_id": str(vtype.id),
            "volume_type_name": vtype.name,
            "availability_zones": zones,
        }

    @staticmethod
    def _extract_size(size) -> int:
        try:
            value = int(size)
        except (TypeError, ValueError):
            value = 0
        if isinstance(size, bool) or value <= 0:
            raise exceptions.InvalidInput(
                reason=f"Volume size '{size}' must be an integer and greater than 0"
            )
        return value

    @staticmethod
    def _extract_volume_type(volume_type) -> VolumeType:
        if not volume_type:
            return VolumeType.default()
        found = VolumeType.objects.filter(name=volume_type).first()
        if found is None:
            try:
                found = VolumeType.objects.filter(id=volume_type).first()
            except Exception:  # not a UUID
                found = None
        if found is None:
            raise exceptions.VolumeTypeNotFoundByName(volume_type_name=volume_type)
        return found

    @staticmethod
    def _extract_availability_zones(availability_zone, vtype: VolumeType) -> list[str]:
        known = availability_zones()
        spec = vtype.extra_specs_dict().get("RESKEY:availability_zones")
        if spec:
            allowed = [z.strip() for z in spec.split(",") if z.strip() in known]
            if not allowed:
                raise exceptions.Invalid(
                    f"No valid availability zones in volume type {vtype.name}: {spec}"
                )
            if availability_zone and availability_zone not in allowed:
                raise exceptions.InvalidAvailabilityZone(az=availability_zone)
            return [availability_zone] if availability_zone else allowed
        zone = availability_zone or settings.DEFAULT_AVAILABILITY_ZONE
        if zone not in known:
            raise exceptions.InvalidAvailabilityZone(az=zone)
        return [zone]


class QuotaReserveTask(CinderTask):
    """Reserves the volume's quota (global and per-type resources at once).

    Reversion strategy: roll the reservations back, unless they were already
    committed (then QuotaCommitTask's revert gives the usage back). If this
    process dies between reserve and commit, the reservation leaks until the
    periodic expiry rolls it back (``reservation_expire``), as in Cinder.
    """

    default_provides = {"reservations"}

    def execute(self, context, size, volume_type_name, optional_args):
        project_id = context["project_id"]
        quota.limit_check(project_id, per_volume_gigabytes=size)
        deltas = quota.add_volume_type_opts({"volumes": 1, "gigabytes": size}, volume_type_name)
        return {"reservations": quota.reserve(project_id, deltas)}

    def revert(self, result, optional_args, **kwargs):
        if isinstance(result, Failure) or optional_args.get("is_quota_committed"):
            return
        quota.rollback(result["reservations"])


class EntryCreateTask(CinderTask):
    """Creates the volume row, status ``creating``.

    Reversion strategy: delete the row, unless quota was committed (then the
    volume counts as created and later failures leave it in ``error``).
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
    ):
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

    def revert(self, result, optional_args, **kwargs):
        if isinstance(result, Failure) or optional_args.get("is_quota_committed"):
            return
        Volume.objects.filter(id=result["volume_id"]).delete()


class QuotaCommitTask(CinderTask):
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
        deltas = quota.add_volume_type_opts({"volumes": 1, "gigabytes": size}, volume_type_name)
        try:
            quota.release(context["project_id"], deltas)
        except Exception:
            LOG.exception("Failed to give quota back after a failed create")


class VolumeCastTask(CinderTask):
    """Casts the request to the scheduler, enqueued once the row is committed.

    Reversion strategy: set the volume to ``error``. (As in Cinder, nothing
    follows this task, so in practice only a failing cast reverts it.)
    """

    def execute(
        self,
        context,
        volume_id,
        volume_properties,
        volume_type_id,
        volume_type_name,
        availability_zones,
        scheduler_hints,
    ):
        volume_type = VolumeType.objects.get(id=volume_type_id)
        request_spec = {
            "volume_id": volume_id,
            "volume_properties": volume_properties,
            "volume_type": {
                "id": volume_type_id,
                "name": volume_type_name,
                "extra_specs": volume_type.extra_specs_dict(),
            },
            "availability_zones": availability_zones,
            "snapshot_id": None,
            "source_volid": None,
            "image_id": None,
            "resource_backend": None,
            "operation": "create_volume",
        }
        filter_properties = {"scheduler_hints": scheduler_hints} if scheduler_hints else {}
        scheduler_rpcapi.create_volume(context, volume_id, request_spec, filter_properties)
        return {"request_spec": request_spec}

    def revert(self, result, volume_id, **kwargs):
        if isinstance(result, Failure):
            return
        Volume.objects.filter(id=volume_id).update(status="error")


def get_flow() -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        ExtractVolumeRequestTask(
            rebind={
                "size": "raw_size",
                "availability_zone": "raw_availability_zone",
                "volume_type": "raw_volume_type",
            }
        ),
        QuotaReserveTask(),
        EntryCreateTask(),
        QuotaCommitTask(),
        VolumeCastTask(),
    )
