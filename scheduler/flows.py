"""The scheduler flow, ``volume_create_scheduler``: pick a backend, cast to it."""

import logging

from taskflow.patterns import linear_flow

from agent import rpcapi as volume_rpcapi
from core.cinder import exceptions, messages
from core.cinder.models import Volume
from core.kernel import flows
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
            backend = driver.schedule_create_volume(request_spec, filter_properties)
        except Exception as error:
            messages.schedule_failed(context, volume_id, error, request_spec)
            Volume.objects.filter(id=volume_id).update(status="error")
            if isinstance(error, exceptions.NoValidBackend):
                LOG.warning("Volume %s: %s", volume_id, error)
                return {"chosen": None, "reason": str(error)}
            raise
        volume_rpcapi.create_volume(context, backend, volume_id, request_spec, filter_properties)
        return {"chosen": backend, "retry": filter_properties.get("retry")}


def get_flow() -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        ExtractSchedulerSpecTask(rebind={"request_spec": "raw_request_spec"}),
        ScheduleCreateVolumeTask(),
    )
