"""cinder-scheduler's RQ jobs: what arrives on the ``scheduler`` queue."""

import logging
from datetime import datetime

from django.db import transaction

from agent import rpcapi as volume_rpcapi
from core.cinder import cleanable, messages, quota
from core.cinder.models import Volume
from core.kernel import flows, queues
from core.kernel.models import Service
from core.kernel.recorder import FlowRecorder, run_recorded
from scheduler import driver, host_manager, operation_flows
from scheduler.flows import get_flow

LOG = logging.getLogger(__name__)


def create_volume(context: dict, volume_id: str, request_spec: dict, filter_properties: dict):
    if not cleanable.claim("VOLUME", volume_id):
        LOG.info("Volume %s is no longer waiting for this job; nothing to do", volume_id)
        return
    store = {
        "context": context,
        "raw_request_spec": request_spec,
        "filter_properties": filter_properties,
        "volume_id": volume_id,
    }
    engine = flows.load(get_flow(), store)
    with FlowRecorder(
        engine,
        volume_id=volume_id,
        project_id=context["project_id"],
        flow="scheduler",
        attempt=driver.attempt_number(filter_properties),
    ):
        engine.run()


def update_service_capabilities(host: str, capabilities: dict, timestamp: str) -> None:
    service = Service.objects.filter(binary="cinder-volume", host=host).first()
    zone = service.availability_zone if service else "nova"
    host_manager.update_from_report(host, zone, capabilities, datetime.fromisoformat(timestamp))


def update_pools_capabilities(reports: list, timestamp: str) -> None:
    """Store many pools' reports at once (``(pool, host, zone, caps)`` each)."""
    pools = [tuple(report) for report in reports]
    host_manager.store_pool_reports(pools, datetime.fromisoformat(timestamp))


def extend_volume(
    context: dict, volume_id: str, new_size: int, reservations: list, request_spec: dict
) -> None:
    """Cinder's ``SchedulerManager.extend_volume``: the volume's pool must hold the growth;
    then the agent extends. Without room the volume returns to its status, the reservation
    is rolled back and the user told."""
    if not cleanable.claim("VOLUME", volume_id):
        LOG.info("Volume %s is no longer waiting for this extend; nothing to do", volume_id)
        return
    try:
        run_recorded(
            operation_flows.extend_flow(),
            {"request_spec": request_spec, "context": context},
            volume_id=volume_id,
            project_id=context["project_id"],
            flow="scheduler",
            operation="extend",
            request_id=context.get("request_id", ""),
        )
    except Exception as error:
        LOG.warning("Extend of %s refused by the scheduler: %s", volume_id, error)
        _extend_failed(volume_id, reservations, error)
        return
    volume_rpcapi.extend_volume(
        context,
        request_spec["host"],
        volume_id,
        new_size,
        reservations,
        from_job=queues.current_job_id(),
    )


def _extend_failed(volume_id: str, reservations: list, error: Exception) -> None:
    with transaction.atomic():
        volume = Volume.objects.filter(id=volume_id, status="extending").first()
        if volume is not None and Volume.conditional_update(
            volume.id, {"status": "extending"}, status=volume.previous_status or "available"
        ):
            quota.rollback(reservations)
            messages.operation_failed(volume, "extend", "no_backend", error)
        cleanable.finish("VOLUME", volume_id)


def retype(context: dict, volume_id: str, request_spec: dict) -> None:
    """Cinder's ``SchedulerManager.retype``: find a backend for the new type, then the
    volume's own backend retypes it (in place, or by migrating). Without one the volume
    returns to its status, the reservations are rolled back and the user told."""
    if not cleanable.claim("VOLUME", volume_id):
        LOG.info("Volume %s is no longer waiting for this retype; nothing to do", volume_id)
        return
    flow = operation_flows.retype_flow()
    try:
        backend = _run_operation(context, volume_id, "retype", flow, request_spec)
    except Exception as error:
        LOG.warning("Retype of %s refused by the scheduler: %s", volume_id, error)
        with transaction.atomic():
            volume = Volume.objects.filter(id=volume_id, status="retyping").first()
            back = {"status": (volume and volume.previous_status) or "available"}
            if volume and Volume.conditional_update(volume.id, {"status": "retyping"}, **back):
                # Cinder rolls back only the new type's; the old type's would leak until expiry.
                quota.rollback(
                    request_spec["quota_reservations"] + request_spec["old_reservations"]
                )
                _tell(context, volume, "retype", error, request_spec, back)
            cleanable.finish("VOLUME", volume_id)
        return
    volume_rpcapi.retype(
        context,
        request_spec["host"],
        volume_id,
        request_spec["volume_type"]["id"],
        backend,
        request_spec.get("migration_policy") or "never",
        request_spec["quota_reservations"],
        request_spec["old_reservations"],
        from_job=queues.current_job_id(),
    )


def migrate_volume(
    context: dict, volume_id: str, backend: str, force_copy: bool, request_spec: dict
) -> None:
    """Cinder's ``SchedulerManager.migrate_volume``: the destination must pass the filters
    (``backend_passes_filters``); then the volume's own backend migrates it. Refused, the
    migration ends ``error`` (a locked volume returns to its status) and the user is told."""
    if not cleanable.claim("VOLUME", volume_id):
        LOG.info("Volume %s is no longer waiting for this migration; nothing to do", volume_id)
        return
    spec = {**request_spec, "destination": backend}
    try:
        target = _run_operation(context, volume_id, "migrate", operation_flows.migrate_flow(), spec)
    except Exception as error:
        LOG.warning("Migration of %s refused by the scheduler: %s", volume_id, error)
        with transaction.atomic():
            volume = Volume.objects.filter(id=volume_id, migration_status="starting").first()
            ending = {"migration_status": "error"}
            if volume and volume.status == "maintenance":
                ending["status"] = volume.previous_status or "available"
            if volume and Volume.conditional_update(
                volume.id, {"migration_status": "starting", "status": volume.status}, **ending
            ):
                _tell(context, volume, "migrate", error, request_spec, ending)
            cleanable.finish("VOLUME", volume_id)
        return
    volume_rpcapi.migrate_volume(
        context,
        request_spec["host"],
        volume_id,
        target,
        force_copy,
        from_job=queues.current_job_id(),
    )


def _run_operation(context: dict, volume_id: str, operation: str, flow, request_spec: dict):
    """Run a one-task scheduler flow, recorded under the request; returns the backend."""
    engine = run_recorded(
        flow,
        {"request_spec": request_spec},
        volume_id=volume_id,
        project_id=context["project_id"],
        flow="scheduler",
        operation=operation,
        request_id=context.get("request_id", ""),
    )
    return engine.storage.fetch("backend")


def _tell(context: dict, volume, operation: str, error, request_spec: dict, state: dict) -> None:
    """The user message, and Cinder's ``scheduler.<method>`` error notification."""
    messages.operation_failed(volume, operation, "no_backend", error)
    method = {"retype": "retype", "migrate": "migrate_volume_to_host"}[operation]
    messages.scheduler_error(context, str(volume.id), method, error, request_spec, state)
