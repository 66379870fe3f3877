"""cinder-volume's RQ jobs: what arrives on a backend's own queue.

Every job first claims its work (:mod:`core.cinder.cleanable`): a job whose resource was
deleted, cleaned up or handed elsewhere since it was cast finds nothing to claim and ends
with a log line, and every job ends its work with a compare-and-swap of the status it
expects, so a stale job never brings a resource back.
"""

import logging

from django.db import transaction
from django.utils import timezone
from taskflow.exceptions import NotFound

from agent import (
    delete_flow,
    extend_flow,
    faults,
    migrate_flow,
    retype_flow,
    revert_flow,
    snapshot_flow,
)
from agent.drivers import backend_config, driver_for, kept_flow
from agent.flows import OnFailureRescheduleTask, get_flow
from agent.reports import publish_capabilities
from core.cinder import cleanable
from core.cinder.models import Snapshot, Volume, Worker
from core.kernel import events, flows
from core.kernel.hosts import extract_host
from core.kernel.recorder import FlowRecorder, run_recorded

LOG = logging.getLogger(__name__)


def create_volume(
    context: dict, host: str, volume_id: str, request_spec: dict, filter_properties: dict
) -> bool:
    """Run the manager flow; returns True if the volume was rescheduled."""
    if not claimed("VOLUME", volume_id, host, ("creating",)):
        return False
    driver = driver_for(backend_config(host))
    store = {
        "context": context,
        "request_spec": request_spec,
        "filter_properties": filter_properties,
        "volume_id": volume_id,
    }
    flow = kept_flow(driver, host, _create_flow)
    engine = flows.load(flow, store)
    attempt = (filter_properties.get("retry") or {}).get("num_attempts", 1)
    with FlowRecorder(
        engine,
        **recorded_as(context, volume_id, "create"),
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
            try:
                rescheduled = engine.storage.get_revert_result(reschedule_task.name)
            except NotFound:  # the flow failed before that task ran: nothing rescheduled
                rescheduled = False
            LOG.warning("Create of %s on %s failed; rescheduled=%s", volume_id, host, rescheduled)
            return bool(rescheduled)
    return False


def _create_flow(driver, host: str):
    """The manager's create flow; a reschedule first reports the backend's capabilities."""
    return get_flow(driver, host, on_reschedule=lambda: publish_capabilities(host, driver))


def recorded_as(context: dict, volume_id: str, operation: str) -> dict:
    """A migration's destination is created and deleted on the volume it moves: its runs
    are recorded on that volume's page, under the request that moves it."""
    source = context.get("migration_of")
    if source:
        return {
            "volume_id": source,
            "operation": context.get("operation", "migrate"),
            "request_id": context.get("request_id", ""),
        }
    return {"volume_id": volume_id, "operation": operation}


def delete_volume(context: dict, host: str, volume_id: str, cascade: bool = False) -> bool:
    """Delete a volume the API has moved to ``deleting``; returns True if it is gone."""
    if not claimed("VOLUME", volume_id, host, delete_flow.DELETING):
        return False
    volume = Volume.objects.get(id=volume_id)
    driver = driver_for(backend_config(host))
    flow = kept_flow(driver, host, delete_flow.get_flow)
    engine = flows.load(flow, {"volume_id": volume_id, "cascade": cascade})
    with FlowRecorder(
        engine,
        **recorded_as(context, volume_id, "delete"),
        project_id=volume.project_id,
        flow="manager",
        host=host,
    ):
        try:
            engine.run()
        except Exception:
            LOG.exception("Delete of volume %s on %s failed", volume_id, host)
            return False
    publish_capabilities(host, driver)  # Cinder publishes after a delete, too
    return True


def extend_volume(
    context: dict, host: str, volume_id: str, new_size: int, reservations: list
) -> None:
    """Cinder's ``extend_volume``: ``lvextend``, then the new size and the growth committed."""
    if not claimed("VOLUME", volume_id, host, ("extending",)):
        return
    driver = driver_for(backend_config(host))
    store = {"volume_id": volume_id, "new_size": new_size, "reservations": reservations}
    run_operation("extend", extend_flow.get_flow, driver, store, context, host, volume_id)
    publish_capabilities(host, driver)


def revert_to_snapshot(context: dict, host: str, volume_id: str, snapshot_id: str) -> None:
    """Cinder's ``revert_to_snapshot``: the volume's data back to its latest snapshot."""
    if not claimed("VOLUME", volume_id, host, ("reverting",)):
        return
    driver = driver_for(backend_config(host))
    store = {"volume_id": volume_id, "snapshot_id": snapshot_id}
    run_operation("revert", revert_flow.get_flow, driver, store, context, host, volume_id)
    publish_capabilities(host, driver)


def retype(
    context: dict,
    host: str,
    volume_id: str,
    new_type_id: str,
    target: str,
    migration_policy: str,
    reservations: list,
    old_reservations: list,
) -> None:
    """Cinder's ``retype``: in place when the scheduler kept the volume here and the driver
    can, else (``on-demand``) by migrating it to ``target`` with the new type."""
    if not claimed("VOLUME", volume_id, host, ("retyping",)):
        return
    driver = driver_for(backend_config(host))
    store = {
        "volume_id": volume_id,
        "new_type_id": new_type_id,
        "target": target,
        "migration_policy": migration_policy,
        "reservations": reservations,
        "old_reservations": old_reservations,
    }
    if run_operation("retype", retype_flow.get_flow, driver, store, context, host, volume_id):
        moving = Volume.objects.filter(id=volume_id, status="retyping", migration_status="starting")
        if moving.exists():
            move = {
                "operation": "retype",
                "work": "retyping",
                "new_type_id": new_type_id,
                "reservations": reservations,
                "old_reservations": old_reservations,
            }
            _migrate(context, host, driver, volume_id, target, False, move)
    publish_capabilities(host, driver)


def migrate_volume(
    context: dict, host: str, volume_id: str, target: str, force_host_copy: bool
) -> None:
    """Cinder's ``migrate_volume`` on the volume's own backend (the scheduler checked the
    destination): the generic, host-assisted migration to ``target``."""
    if not claimed("VOLUME", volume_id, host, ("available", "in-use", "maintenance")):
        return
    driver = driver_for(backend_config(host))
    move = {"operation": "migrate", "work": "migrating"}
    _migrate(context, host, driver, volume_id, target, force_host_copy, move)
    publish_capabilities(host, driver)


def _migrate(context, host, driver, volume_id, target, force_host_copy, move: dict) -> bool:
    store = {
        "context": context,
        "volume_id": volume_id,
        "target": target,
        "force_host_copy": force_host_copy,
        "move": move,
    }
    return run_operation(
        move["operation"], migrate_flow.get_flow, driver, store, context, host, volume_id
    )


def update_migrated_volume(
    context: dict,
    host: str,
    volume_id: str,
    new_volume_id: str,
    move: dict,
    reservations: list,
    old_reservations: list,
) -> None:
    """On the destination, the data copied: rename the new LV, swap the rows, delete the old
    LV on the source backend (the end of Cinder's ``migrate_volume_completion``)."""
    if not cleanable.claim("VOLUME", volume_id):
        LOG.info("Volume %s has no work for this job; nothing to do", volume_id)
        return
    volume = Volume.objects.filter(id=volume_id, migration_status="completing").first()
    dest = Volume.objects.filter(id=new_volume_id).first()
    if volume is None or dest is None or extract_host(dest.host) != extract_host(host):
        LOG.warning("Migration of %s is no longer completing here; giving it up", volume_id)
        migrate_flow.migration_failed(volume_id, move, None)
        return
    driver = driver_for(backend_config(host))
    store = {
        "context": context,
        "volume_id": volume_id,
        "new_volume_id": new_volume_id,
        "move": move,
    }
    completion = migrate_flow.get_completion_flow
    run_operation(move["operation"], completion, driver, store, context, host, volume_id)
    publish_capabilities(host, driver)


def run_operation(
    operation: str, build, driver, store: dict, context: dict, host: str, volume_id: str
) -> bool:
    """Run the manager flow ``build`` makes for ``driver`` (kept with it) of an operation
    after the create, recorded under the request; False if it failed (its tasks' reverts
    have set the volume's ending)."""
    try:
        run_recorded(
            kept_flow(driver, host, build),
            {"context": context, **store},  # the context's pace holds each task when teaching
            volume_id=volume_id,
            project_id=context["project_id"],
            flow="manager",
            operation=operation,
            request_id=context.get("request_id", ""),
            host=host,
        )
    except Exception:
        LOG.exception("%s of volume %s on %s failed", operation.capitalize(), volume_id, host)
        return False
    return True


def create_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    """``lvcreate --snapshot`` for a snapshot row in ``creating``; ``available`` or ``error``,
    recorded on its volume's page as the operation ``snapshot``."""
    if not claimed("SNAPSHOT", snapshot_id, host, ("creating",)):
        return
    snapshot = Snapshot.objects.get(id=snapshot_id)
    try:
        run_recorded(
            kept_flow(driver_for(backend_config(host)), host, snapshot_flow.get_flow),
            {"context": context, "snapshot_id": snapshot_id},
            volume_id=snapshot.volume_id,
            project_id=snapshot.project_id,
            flow="manager",
            operation="snapshot",
            request_id=f"snapshot-{snapshot_id}",
            host=host,
        )
    except Exception:
        LOG.exception("Snapshot %s of volume %s failed", snapshot_id, snapshot.volume_id)


def delete_snapshot(context: dict, host: str, snapshot_id: str) -> None:
    """Remove a ``deleting`` snapshot's LV, then its row and quota; else ``error_deleting``."""
    if not claimed("SNAPSHOT", snapshot_id, host, ("deleting",)):
        return
    snapshot = Snapshot.objects.select_related("volume_type").get(id=snapshot_id)
    try:
        faults.apply(host, "snapshot")
        driver_for(backend_config(host)).delete_snapshot(snapshot.name, snapshot.volume_size)
    except Exception:
        LOG.exception("Delete of snapshot %s failed", snapshot_id)
        with transaction.atomic():
            Snapshot.conditional_update(
                snapshot.id, {"status": "deleting"}, status="error_deleting"
            )
            cleanable.finish("SNAPSHOT", snapshot_id)
    else:
        with transaction.atomic():
            delete_flow.destroy_snapshot(snapshot)
            cleanable.finish("SNAPSHOT", snapshot_id)
    Volume.objects.filter(id=snapshot.volume_id).update(updated_at=timezone.now())
    events.volume_changed(snapshot.volume_id, snapshot.project_id)


def claimed(resource_type: str, resource_id: str, host: str, statuses) -> bool:
    """Claim the job's work; True only if it is ours and the resource is as we expect.

    The resource must be in ``statuses`` on this job's backend. A claim on anything else
    (a resource that moved on while its work row lagged) gives the work up.
    """
    if not cleanable.claim(resource_type, resource_id):
        LOG.info("%s %s has no work for this job; nothing to do", resource_type, resource_id)
        return False
    if resource_type == "VOLUME":
        resource = Volume.objects.by_id(resource_id)
        where = resource and resource.host
    else:
        resource = Snapshot.objects.select_related("volume").filter(id=resource_id).first()
        where = resource and resource.volume.host
    backend = extract_host(host, "backend")
    if resource is None or resource.status not in statuses or extract_host(where) != backend:
        LOG.warning(
            "%s %s is not %s on %s; giving its work up",
            resource_type,
            resource_id,
            "/".join(statuses),
            backend,
        )
        cleanable.finish(resource_type, resource_id)
        return False
    return True


def do_cleanup(context: dict, host: str) -> int:
    """Cinder's ``do_cleanup``: end the work of this backend's dead workers now."""
    rows = Worker.objects.filter(service=extract_host(host, "backend"))
    done = cleanable.clean_dead_owners(rows)
    LOG.info("Cleanup on %s: %s", host, done or "nothing to clean")
    return sum(done.values())
