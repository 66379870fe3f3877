"""cinder-volume's answers to the attach and detach *calls* (cinder-api waits for each).

Each job runs one recorded flow of :mod:`agent.attach_flow` and returns what Cinder's
manager method returns. A failure is kept for the caller (class and words, see
:func:`core.kernel.queues.reply_error`) and re-raised. A *tracked* call holds the volume in
a status (``attaching``, ``detaching``, ``reserved``) under a work row the caller wrote; the
job claims it first and lets it go when done, so a job that dies is cleaned up like any
other lost work and never leaves the volume so.
"""

import logging

from agent import attach_flow
from agent.drivers import backend_config, driver_for
from core.cinder import cleanable, exceptions
from core.kernel import queues
from core.kernel.recorder import run_recorded

LOG = logging.getLogger(__name__)


def _answer(context, host, volume_id, build, store, operation, provides=None, tracked=False):
    if tracked and not cleanable.claim("VOLUME", volume_id):
        error = exceptions.InvalidVolume(reason=f"{volume_id} is no longer waiting for this call")
        queues.reply_error(error)
        raise error
    try:
        engine = run_recorded(
            build(driver_for(backend_config(host)), host),
            {"volume_id": volume_id, "tracked": tracked, **store},
            volume_id=volume_id,
            project_id=context["project_id"],
            flow="manager",
            operation=operation,
            request_id=context.get("request_id", ""),
            host=host,
        )
        return engine.storage.fetch(provides) if provides else None
    except Exception as error:
        LOG.warning("%s of volume %s on %s failed: %s", build.__name__, volume_id, host, error)
        queues.reply_error(error)
        raise
    finally:
        if tracked:
            cleanable.finish("VOLUME", volume_id)


def initialize_connection(context: dict, host: str, volume_id: str, connector: dict) -> dict:
    return _answer(
        context,
        host,
        volume_id,
        attach_flow.initialize_connection_flow,
        {"connector": connector},
        "attach",
        provides="connection_info",
    )


def attach_volume(
    context: dict,
    host: str,
    volume_id: str,
    instance_uuid: str | None,
    host_name: str | None,
    mountpoint: str,
    mode: str,
) -> str:
    """The attachment's id (os-attach)."""
    store = {
        "instance_uuid": instance_uuid,
        "host_name": host_name,
        "mountpoint": mountpoint,
        "mode": mode,
    }
    return _answer(
        context,
        host,
        volume_id,
        attach_flow.attach_volume_flow,
        store,
        "attach",
        provides="attachment_id",
        tracked=True,
    )


def terminate_connection(
    context: dict, host: str, volume_id: str, connector: dict | None, force: bool = False
) -> None:
    _answer(
        context,
        host,
        volume_id,
        attach_flow.terminate_connection_flow,
        {"connector": connector, "force": force},
        "detach",
    )


def detach_volume(context: dict, host: str, volume_id: str, attachment_id: str | None) -> None:
    _answer(
        context,
        host,
        volume_id,
        attach_flow.detach_volume_flow,
        {"attachment_id": attachment_id},
        "detach",
        tracked=True,
    )


def attachment_update(
    context: dict,
    host: str,
    volume_id: str,
    connector: dict,
    attachment_id: str,
    mode: str,
    tracked: bool,
) -> dict:
    """The connection info (flat, with the attachment's id)."""
    return _answer(
        context,
        host,
        volume_id,
        attach_flow.attachment_update_flow,
        {"connector": connector, "attachment_id": attachment_id, "mode": mode},
        "attach",
        provides="connection_info",
        tracked=tracked,
    )


def attachment_delete(context: dict, host: str, volume_id: str, attachment_id: str) -> None:
    _answer(
        context,
        host,
        volume_id,
        attach_flow.attachment_delete_flow,
        {"attachment_id": attachment_id, "force": False},
        "detach",
    )
