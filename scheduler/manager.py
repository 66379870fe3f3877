"""cinder-scheduler's RQ jobs: what arrives on the ``scheduler`` queue."""

import logging
from datetime import datetime

import taskflow.engines
from django.db import transaction

from agent import rpcapi as volume_rpcapi
from core.cinder import cleanable, messages, quota
from core.cinder.models import Volume
from core.kernel import queues
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
    engine = taskflow.engines.load(get_flow(), store=store)
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
            {"request_spec": request_spec},
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
