"""How other services reach cinder-scheduler: casts onto the ``scheduler`` queue."""

from portal.queues import SCHEDULER_QUEUE, cast


def create_volume(context: dict, volume_id: str, request_spec: dict, filter_properties: dict):
    cast(
        SCHEDULER_QUEUE,
        "scheduler.manager.create_volume",
        context=context,
        volume_id=volume_id,
        request_spec=request_spec,
        filter_properties=filter_properties,
    )


def update_service_capabilities(host: str, capabilities: dict, timestamp: str) -> None:
    cast(
        SCHEDULER_QUEUE,
        "scheduler.manager.update_service_capabilities",
        job_timeout=60,
        host=host,
        capabilities=capabilities,
        timestamp=timestamp,
    )
