"""cinder-api's entry point for creating volumes, shared by the form and REST.

It runs the API flow in the caller's process (the web request), as Cinder
does, and returns the new volume; refused requests raise Cinder's errors and
leave nothing behind.
"""

import uuid

import taskflow.engines

from portal.recorder import FlowRecorder
from volumes.flows import get_flow
from volumes.models import Volume


def request_context(user, project) -> dict:
    """The plain-value context that travels with a request through every flow."""
    return {
        "user_id": user.pk,
        "project_id": str(project.pk),
        "is_admin": bool(user.is_superuser),
    }


def create(
    context: dict,
    *,
    size,
    name: str = "",
    description: str = "",
    volume_type: str | None = None,
    availability_zone: str | None = None,
    metadata: dict | None = None,
    scheduler_hints: dict | None = None,
) -> Volume:
    volume_id = str(uuid.uuid4())
    store = {
        "context": context,
        "requested_volume_id": volume_id,
        "raw_size": size,
        "name": name,
        "description": description,
        "raw_volume_type": volume_type,
        "raw_availability_zone": availability_zone,
        "metadata": metadata or {},
        "scheduler_hints": scheduler_hints or {},
        "optional_args": {"is_quota_committed": False},
    }
    engine = taskflow.engines.load(get_flow(), store=store)
    with FlowRecorder(
        engine, volume_id=volume_id, project_id=context["project_id"], flow="api", deferred=True
    ):
        engine.run()
    return Volume.objects.get(id=volume_id)
