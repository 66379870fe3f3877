"""cinder-volume's RQ jobs: what arrives on a backend's own queue."""

import logging

import taskflow.engines
from django.db import transaction
from django.utils import timezone

from agent import delete_flow, faults
from agent.drivers import backend_config, driver_for
from agent.flows import OnFailureRescheduleTask, get_flow
from agent.reports import publish_capabilities
from core.cinder import quota
from core.cinder.models import Snapshot, Volume
from core.kernel import events
from core.kernel.recorder import FlowRecorder

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
    flow = get_flow(driver, host, on_reschedule=lambda: publish_capabilities(host, driver))
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


def delete_volume(context: dict, host: str, volume_id: str, cascade: bool = False) -> bool:
    """Delete a volume the API has moved to ``deleting``; returns True if it is gone.

    A job for a volume that is gone, or not ``deleting`` (a duplicate job), does nothing.
    """
    volume = Volume.objects.filter(id=volume_id).first()
    if volume is None or volume.status not in delete_flow.DELETING:
        LOG.info("Volume %s is not being deleted; nothing to do", volume_id)
        return False
    driver = driver_for(backend_config(host))
    engine = taskflow.engines.load(
        delete_flow.get_flow(driver, host), store={"volume_id": volume_id, "cascade": cascade}
    )
    with FlowRecorder(
        engine, volume_id=volume_id, project_id=volume.project_id, flow="delete", host=host
    ):
        try:
            engine.run()
        except Exception:
            LOG.exception("Delete of volume %s on %s failed", volume_id, host)
            return False
    publish_capabilities(host, driver)  # Cinder publishes after a delete, too
    return True


def create_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    """``lvcreate --snapshot`` for a snapshot row in ``creating``; ``available`` or ``error``."""
    snapshot = Snapshot.objects.select_related("volume").filter(id=snapshot_id).first()
    if snapshot is None or snapshot.status != "creating":
        return
    try:
        faults.apply(host, "snapshot")
        driver_for(backend_config(host)).create_snapshot(snapshot.name, str(snapshot.volume_id))
    except Exception:
        LOG.exception("Snapshot %s of volume %s failed", snapshot_id, snapshot.volume_id)
        Snapshot.conditional_update(snapshot.id, {"status": "creating"}, status="error")
    else:
        Snapshot.conditional_update(
            snapshot.id, {"status": "creating"}, status="available", progress="100%"
        )
    events.volume_changed(snapshot.volume_id, snapshot.project_id, kind="snapshot")


def delete_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    """Remove a ``deleting`` snapshot's LV, then its row and quota; else ``error_deleting``."""
    snapshot = Snapshot.objects.select_related("volume_type").filter(id=snapshot_id).first()
    if snapshot is None or snapshot.status != "deleting":
        return
    try:
        faults.apply(host, "snapshot")
        driver_for(backend_config(host)).delete_snapshot(snapshot.name, snapshot.volume_size)
    except Exception:
        LOG.exception("Delete of snapshot %s failed", snapshot_id)
        Snapshot.conditional_update(snapshot.id, {"status": "deleting"}, status="error_deleting")
    else:
        with transaction.atomic():
            deleted, _ = Snapshot.objects.filter(id=snapshot.id, status="deleting").delete()
            if deleted and snapshot.use_quota:
                quota.release(
                    snapshot.project_id,
                    quota.snapshot_deltas(snapshot.volume_size, snapshot.volume_type.name),
                )
    Volume.objects.filter(id=snapshot.volume_id).update(updated_at=timezone.now())
    events.volume_changed(snapshot.volume_id, snapshot.project_id, kind="snapshot")
