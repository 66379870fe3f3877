"""cinder-scheduler's RQ jobs: what arrives on the ``scheduler`` queue."""

import logging
from datetime import datetime

import taskflow.engines

from core.cinder import cleanable
from core.kernel.models import Service
from core.kernel.recorder import FlowRecorder
from scheduler import driver, host_manager
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
