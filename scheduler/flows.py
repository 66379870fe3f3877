"""The scheduler flow, ``volume_create_scheduler``: pick a backend, cast to it."""

import logging

from django.db import transaction
from django.utils import timezone
from taskflow.patterns import linear_flow

from agent import rpcapi as volume_rpcapi
from core.cinder import cleanable, exceptions, messages
from core.cinder.models import Volume
from core.kernel import flows, queues
from scheduler import driver

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_create_scheduler"


class SchedulerTask(flows.CinderTask):
    module = "cinder.scheduler.flows.create_volume"


class ExtractSchedulerSpecTask(SchedulerTask):
    """Makes sure there is a request spec (legacy casts sent none).

    Reversion strategy: N/A.
    """

    default_provides = {"request_spec"}

    def execute(self, request_spec, volume_id):
        if request_spec:
            return {"request_spec": request_spec}
        volume = Volume.objects.select_related("volume_type").get(id=volume_id)
        return {
            "request_spec": {
                "volume_id": volume_id,
                "volume_properties": {
                    "size": volume.size,
                    "availability_zone": volume.availability_zone,
                    "volume_type_id": str(volume.volume_type_id),
                },
                "volume_type": {
                    "id": str(volume.volume_type_id),
                    "name": volume.volume_type.name,
                    "extra_specs": volume.volume_type.extra_specs_dict(),
                },
                "availability_zones": [volume.availability_zone],
            }
        }


class ScheduleCreateVolumeTask(SchedulerTask):
    """Filters and weighs pools, then casts the create to the chosen backend.

    On any scheduling error the volume goes to ``error`` with a user message
    saying why; "No valid backend" ends the flow successfully (as Cinder does:
    nothing to revert), other errors re-raise. Reversion strategy: N/A.
    """

    def execute(self, context, request_spec, filter_properties, volume_id):
        try:
            backend, zone = driver.schedule_create_volume(request_spec, filter_properties)
        except Exception as error:
            messages.schedule_failed(context, volume_id, error, request_spec)
            with transaction.atomic():
                Volume.conditional_update(volume_id, {"status": "creating"}, status="error")
                cleanable.finish("VOLUME", volume_id)
            if isinstance(error, exceptions.NoValidBackend):
                LOG.warning("Volume %s: %s", volume_id, error)
                return {"chosen": None, "reason": str(error)}
            raise
        if not self._hand_over(context, request_spec, filter_properties, volume_id, backend, zone):
            LOG.info("Volume %s moved on while it was scheduled; not cast", volume_id)
            return {"chosen": backend, "cast": False}
        return {"chosen": backend, "retry": filter_properties.get("retry")}

    @staticmethod
    def _hand_over(context, request_spec, filter_properties, volume_id, backend, zone) -> bool:
        """Place the volume and hand its work to the backend, both or neither."""
        with transaction.atomic():
            now = timezone.now()
            placed = Volume.conditional_update(
                volume_id,
                {"status": "creating", "host__isnull": True},
                host=backend,
                scheduled_at=now,
                availability_zone=zone,
            )
            if placed and volume_rpcapi.create_volume(
                context,
                backend,
                volume_id,
                request_spec,
                filter_properties,
                from_job=queues.current_job_id(),
            ):
                return True
            transaction.set_rollback(True)
            return False


@flows.built_once
def get_flow() -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        ExtractSchedulerSpecTask(rebind={"request_spec": "raw_request_spec"}),
        ScheduleCreateVolumeTask(),
    )
