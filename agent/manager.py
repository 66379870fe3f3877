"""cinder-volume's RQ jobs: what arrives on a backend's own queue."""

import logging

import taskflow.engines

from agent.drivers import backend_config, driver_for
from agent.flows import OnFailureRescheduleTask, get_flow
from portal.recorder import FlowRecorder

LOG = logging.getLogger(__name__)


def create_volume(
    context: dict, host: str, volume_id: str, request_spec: dict, filter_properties: dict
) -> bool:
    """Run the manager flow; returns True if the volume was rescheduled."""
    driver = driver_for(backend_config(host))
    store = {
        "context": context,
        "request_spec": request_spec,
        "filter_properties": filter_properties,
        "volume_id": volume_id,
    }
    flow = get_flow(driver, host)
    engine = taskflow.engines.load(flow, store=store)
    attempt = (filter_properties.get("retry") or {}).get("num_attempts", 1)
    with FlowRecorder(
        engine,
        volume_id=volume_id,
        project_id=context["project_id"],
        flow="manager",
        attempt=attempt,
        host=host,
    ):
        try:
            engine.run()
        except Exception:
            reschedule_task = next(
                t for t, _ in flow.iter_nodes() if isinstance(t, OnFailureRescheduleTask)
            )
            rescheduled = engine.storage.get_revert_result(reschedule_task.name)
            LOG.warning("Create of %s on %s failed; rescheduled=%s", volume_id, host, rescheduled)
            return bool(rescheduled)
    return False
