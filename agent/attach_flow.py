"""The data path on the backend: Cinder's ``VolumeManager`` methods for attaching and
detaching, each run as a small recorded flow.

Cinder runs them as plain manager methods, called (not cast) by cinder-api; each task here
is one of the method's steps and is named after the method (``...VolumeManager.<method>.
<Step>``), so the page shows the exports' ``tgt-admin`` or ``cinder-rtstool`` lines on
the step that ran them. Six methods, six flows:

- ``initialize_connection``: validate the connector, export the LV (``create_export``, which
  stores ``provider_location`` and ``provider_auth``), answer the connection info;
- ``attach_volume`` (os-attach): the attachment row, ``attaching`` then ``attached``;
- ``terminate_connection``: the driver closes the host's access;
- ``detach_volume`` (os-detach): remove the export, then ``finish_detach``;
- ``attachment_update`` (attachments API): the same export and connection, the attachment
  ``attaching`` with its connector and connection info, waiting for ``os-complete``;
- ``attachment_delete``: close the access and remove the export unless shared (cinder-api
  then finishes the detach, as in Cinder).

A task that ends the work of a tracked call (see :mod:`core.cinder.cleanable`) writes its
ending only while the call's work row is still its own: a caller that gave up, or a
cleanup, has already put the volume back.
"""

import logging
import uuid

from django.db import transaction
from django.utils import timezone
from taskflow.patterns import linear_flow
from taskflow.types.failure import Failure

from agent import faults
from agent.storage.exception import InvalidConnectorException
from core.cinder import attachments, cleanable, exceptions, messages
from core.cinder.models import Volume, VolumeAttachment
from core.kernel import events, flows

LOG = logging.getLogger(__name__)


def volume_info(volume: Volume) -> dict:
    """What the driver needs of a volume, as plain values."""
    return {
        "id": str(volume.id),
        "name": volume.name,
        "provider_location": volume.provider_location or None,
        "provider_auth": volume.provider_auth or None,
        "multiattach": volume.multiattach,
        "attachments": [{"connector": a.connector} for a in volume.attachments.all()],
    }


def still_ours(volume_id, tracked: bool) -> bool:
    """A tracked call's job may end its work only while the work row is still its own."""
    return not tracked or cleanable.owns("VOLUME", volume_id)


def changed(volume_id) -> None:
    volume = Volume.all_objects.get(id=volume_id)
    events.volume_changed(volume.id, volume.project_id)


class ManagerStep(flows.CinderTask):
    """One step of a ``VolumeManager`` method (the method names the task)."""

    addons = ("volume:attach",)

    def __init__(self, method: str, driver=None, host: str = "", addons=None):
        self.module = f"cinder.volume.manager.VolumeManager.{method}"
        super().__init__(addons=addons)
        self.method = method
        self.driver = driver
        self.host = host


class NotifyUsageTask(ManagerStep):
    """Sends ``volume.<event>`` (``attach.start``, ``detach.start``...). Reversion: N/A."""

    def __init__(self, method: str, host: str, event: str):
        scope = "volume:detach" if event.startswith("detach") else "volume:attach"
        super().__init__(method, host=host, addons=(scope, event))
        self.event = event

    def execute(self, volume_id):
        volume = Volume.objects.get(id=volume_id)
        return {
            "event_type": messages.notify_volume_usage(volume, self.event, self.host).event_type
        }


# -- exporting and connecting --------------------------------------------------------


class ValidateConnectorTask(ManagerStep):
    """``driver.validate_connector``: an iSCSI target needs the host's ``initiator``; a
    connector without one is the caller's mistake (InvalidInput, 400).
    Reversion strategy: N/A (nothing changed yet)."""

    def execute(self, connector):
        try:
            self.driver.validate_connector(connector)
        except InvalidConnectorException as error:
            raise exceptions.InvalidInput(reason=str(error)) from error
        return {"initiator": connector["initiator"]}


class CreateExportTask(ManagerStep):
    """``driver.create_export``: activate the LV, make the iSCSI target, keep its
    ``provider_location`` and ``provider_auth`` (CHAP) on the volume.

    Reversion strategy: when a later step fails, the export is removed again (Cinder does so
    when the driver's ``initialize_connection`` fails); for the attachments API the
    attachment becomes ``error_attaching`` and the user is told (``update attachment:
    Failed to attach volume.``).
    """

    def execute(self, volume_id, connector):
        faults.apply(self.host, "attach")
        volume = Volume.objects.get(id=volume_id)
        try:
            update = self.driver.create_export(volume_info(volume), connector)
        except Exception as error:
            raise exceptions.VolumeBackendAPIException(
                data=f"Create export of volume failed ({error})"
            ) from error
        Volume.objects.filter(id=volume_id).update(**update, updated_at=timezone.now())
        return {"provider_location": update["provider_location"]}

    def revert(self, volume_id, tracked, result, flow_failures=None, attachment_id=None, **kw):
        volume = Volume.objects.get(id=volume_id)
        if not isinstance(result, Failure):
            try:
                self.driver.remove_export(volume_info(volume))
            except Exception:
                LOG.exception("Could not remove the export of %s after a failure", volume_id)
        if self.method == "attachment_update" and attachment_id:
            failure = result if isinstance(result, Failure) else next(iter(flow_failures.values()))
            with transaction.atomic():
                if still_ours(volume_id, tracked):
                    attachments.error_attaching([attachment_id])
                    attachments.unreserve(volume_id, volume.status)
                messages.operation_failed(
                    volume, "update_attachment", "attach_error", failure.exception
                )
            changed(volume_id)


class InitializeConnectionTask(ManagerStep):
    """``driver.initialize_connection`` (LIO adds the host's initiator to the target's
    ACL), then Cinder's ``_parse_connection_options``: QoS, access mode, encryption,
    cacheable. For the attachments API the answer is flattened and carries the attachment.
    Reversion strategy: N/A (the export step removes the export)."""

    default_provides = "connection_info"

    def execute(self, volume_id, connector, attachment_id=None, mode="rw"):
        volume = Volume.objects.select_related("volume_type").get(id=volume_id)
        try:
            info = self.driver.initialize_connection(volume_info(volume), connector)
        except Exception as error:
            raise exceptions.VolumeBackendAPIException(
                data=f"Driver initialize connection failed (error: {error})."
            ) from error
        data = info["data"]
        cacheable = volume.volume_type.extra_specs_dict().get("cacheable") == "<is> True"
        data.update(qos_specs=None, access_mode="ro" if mode == "ro" else "rw")
        data.setdefault("encrypted", False)
        data["cacheable"] = bool(data.get("cacheable", True)) and cacheable
        if self.method != "attachment_update":
            data["enforce_multipath"] = connector.get("enforce_multipath", False)
            return info
        flat = {**data, "driver_volume_type": info["driver_volume_type"]}
        flat.update(
            attachment_id=attachment_id, enforce_multipath=connector.get("enforce_multipath", False)
        )
        return flat


class AttachmentAttachingTask(ManagerStep):
    """The attachment is being made: ``attaching`` (volume too) with the connector's host,
    mountpoint and mode and the connection info, until the caller says ``os-complete``.
    Reversion strategy: N/A (last step)."""

    def execute(self, volume_id, tracked, attachment_id, connector, connection_info, mode="rw"):
        with transaction.atomic():
            if not still_ours(volume_id, tracked):
                raise exceptions.InvalidVolume(reason="the attachment was given up meanwhile")
            VolumeAttachment.objects.filter(id=attachment_id).update(
                connector=connector, connection_info=connection_info
            )
            attachment = VolumeAttachment.objects.get(id=attachment_id)
            attachments.volume_attached(
                attachment_id,
                attachment.instance_uuid,
                connector.get("host", ""),
                connector.get("mountpoint", "na"),
                mode,
                mark_attached=False,
            )
        changed(volume_id)
        return {"attach_status": "attaching", "attached_host": connector.get("host", "")}


# -- os-attach ---------------------------------------------------------------------------


class CheckAttachTask(ManagerStep):
    """Cinder's first checks: this server (or host) already has this volume (then that
    attachment is the answer), or an ``in-use`` volume that is not multiattach.
    Reversion strategy: N/A."""

    default_provides = "existing"

    def execute(self, volume_id, instance_uuid, host_name):
        volume = Volume.objects.get(id=volume_id)
        mine = volume.attachments.filter(
            **({"instance_uuid": instance_uuid} if instance_uuid else {"attached_host": host_name})
        ).first()
        if mine is not None:
            return str(mine.id)
        if volume.status == "in-use" and not volume.multiattach and not volume.migration_status:
            raise exceptions.InvalidVolume(
                reason="volume is already attached and multiple attachments are not enabled"
            )
        return None


class BeginAttachTask(ManagerStep):
    """``volume.begin_attach``: an ``attaching`` attachment row in the caller's mode.

    Reversion strategy: the attachment becomes ``error_attaching``, the volume goes back
    as its attachments say (Nova would unreserve it) and the user is told (``attach
    volume: Failed to attach volume.``)."""

    default_provides = "attachment_id"

    def execute(self, volume_id, existing, instance_uuid, mode):
        if existing:
            return existing
        attachment = VolumeAttachment.objects.create(
            volume_id=volume_id, attach_status="attaching", attach_mode=mode
        )
        return str(attachment.id)

    def revert(self, volume_id, existing, result, flow_failures=None, **kwargs):
        failure = next(iter((flow_failures or {}).values()), None)
        volume = Volume.objects.get(id=volume_id)
        with transaction.atomic():
            begun = isinstance(result, str) and result != existing
            if begun and cleanable.owns("VOLUME", volume_id):
                attachments.error_attaching([result])
                attachments.unreserve(volume_id, "attaching")
            messages.operation_failed(
                volume, "attach", "attach_error", failure.exception if failure else None
            )
        changed(volume_id)


class FinishAttachTask(ManagerStep):
    """``attachment.finish_attach``: ``attached``, the volume ``in-use``; ``attach.end``.
    A server id that is not a UUID fails here, as in Cinder. Reversion strategy: N/A."""

    def execute(self, volume_id, attachment_id, instance_uuid, host_name, mountpoint, mode):
        if instance_uuid and not _is_uuid(instance_uuid):
            raise exceptions.InvalidUUID(uuid=instance_uuid)
        with transaction.atomic():
            if not cleanable.owns("VOLUME", volume_id):
                raise exceptions.InvalidVolume(reason="the attach was given up meanwhile")
            volume = attachments.volume_attached(
                attachment_id, instance_uuid, host_name, mountpoint, mode
            )
        messages.notify_volume_usage(volume, "attach.end", self.host)
        changed(volume_id)
        return {"attachment_id": attachment_id, "status": volume.status}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


# -- detaching ---------------------------------------------------------------------------


class TerminateConnectionTask(ManagerStep):
    """``driver.terminate_connection``: LIO takes the host's initiator off the target's
    ACL (tgt has nothing to do). Answers whether other attachments share the export; with
    no connector the attachments API skips it (the host never connected).
    Reversion strategy: N/A."""

    default_provides = "shared"

    def execute(self, volume_id, connector=None, force=False, attachment_id=None):
        faults.apply(self.host, "attach")
        volume = Volume.objects.get(id=volume_id)
        if self.method == "attachment_delete":
            connector = VolumeAttachment.all_objects.get(id=attachment_id).connector
            if not connector and not force:
                return None  # never connected: nothing to terminate
        try:
            return bool(self.driver.terminate_connection(volume_info(volume), connector, force))
        except Exception as error:
            raise exceptions.VolumeBackendAPIException(
                data=f"Terminate volume connection failed: {error}"
            ) from error


class CheckDetachTask(ManagerStep):
    """Which attachment to detach: the one named, else the only one. None left: the
    volume is put back ``available`` (nothing to detach). Reversion strategy: N/A."""

    default_provides = "detaching_id"

    def execute(self, volume_id, attachment_id=None):
        volume = Volume.objects.get(id=volume_id)
        if attachment_id:
            if not volume.attachments.filter(id=attachment_id).exists():
                attachments.volume_detached(volume_id, attachment_id)
                return None
            return attachment_id
        present = list(volume.attachments.values_list("id", flat=True))
        if len(present) > 1:
            raise exceptions.InvalidVolume(
                reason="Detach volume failed: More than one attachment, "
                "but no attachment_id provided."
            )
        if not present:
            with transaction.atomic():
                if cleanable.owns("VOLUME", volume_id):
                    Volume.objects.filter(id=volume_id).update(
                        status="available", attach_status="detached", updated_at=timezone.now()
                    )
            return None
        return str(present[0])


class RemoveExportTask(ManagerStep):
    """``driver.remove_export``: the target is deleted (``tgt-admin --delete``,
    ``cinder-rtstool delete``). For os-detach a failure fails the detach; for the
    attachments API it is only logged, and the export stays while another attachment
    shares it.

    Reversion strategy (os-detach): the volume goes back to ``in-use`` (Cinder leaves it
    ``detaching`` for Nova to roll back; there is no Nova here) and the user is told
    (``attach volume: Failed to detach volume.``).
    """

    def execute(self, volume_id, detaching_id=None, shared=None):
        if self.method == "detach_volume" and detaching_id is None:
            return {"removed": False}
        if self.method == "attachment_delete" and shared is not False:
            return {"removed": False, "shared": shared}
        volume = Volume.objects.get(id=volume_id)
        try:
            faults.apply(self.host, "attach")
            self.driver.remove_export(volume_info(volume))
        except Exception as error:
            if self.method == "attachment_delete":
                LOG.warning("Failed to detach volume on the backend, ignoring failure %s", error)
                return {"removed": False, "error": str(error)}
            raise exceptions.VolumeBackendAPIException(
                data=f"Failed to remove export for volume {volume_id}: {error}"
            ) from error
        return {"removed": True}

    def revert(self, volume_id, result, **kwargs):
        if self.method != "detach_volume" or not isinstance(result, Failure):
            return
        volume = Volume.objects.get(id=volume_id)
        with transaction.atomic():
            if cleanable.owns("VOLUME", volume_id):
                Volume.conditional_update(volume_id, {"status": "detaching"}, status="in-use")
            messages.operation_failed(volume, "attach", "detach_error", result.exception)
        changed(volume_id)


class FinishDetachTask(ManagerStep):
    """``volume.finish_detach``: the attachment ``detached`` (its row kept, deleted), the
    volume ``available`` unless other attachments remain; ``detach.end``.
    Reversion strategy: N/A."""

    def execute(self, volume_id, detaching_id=None):
        if detaching_id is not None:
            with transaction.atomic():
                if not cleanable.owns("VOLUME", volume_id):
                    raise exceptions.InvalidVolume(reason="the detach was given up meanwhile")
                attachments.volume_detached(volume_id, detaching_id)
            volume = Volume.objects.get(id=volume_id)
            messages.notify_volume_usage(volume, "detach.end", self.host)
        changed(volume_id)
        return {"status": Volume.objects.get(id=volume_id).status}


# -- the flows -------------------------------------------------------------------------


def _flow(method: str, *tasks) -> linear_flow.Flow:
    return linear_flow.Flow(f"volume_{method}_manager").add(*tasks)


def initialize_connection_flow(driver, host: str) -> linear_flow.Flow:
    m = "initialize_connection"
    return _flow(
        m,
        ValidateConnectorTask(m, driver, host),
        CreateExportTask(m, driver, host),
        InitializeConnectionTask(m, driver, host),
    )


def attach_volume_flow(driver, host: str) -> linear_flow.Flow:
    m = "attach_volume"
    return _flow(
        m,
        CheckAttachTask(m, driver, host),
        NotifyUsageTask(m, host, "attach.start"),
        BeginAttachTask(m, driver, host),
        FinishAttachTask(m, driver, host),
    )


def attachment_update_flow(driver, host: str) -> linear_flow.Flow:
    m = "attachment_update"
    return _flow(
        m,
        NotifyUsageTask(m, host, "attach.start"),
        ValidateConnectorTask(m, driver, host),
        CreateExportTask(m, driver, host),
        InitializeConnectionTask(m, driver, host),
        AttachmentAttachingTask(m, driver, host),
    )


def terminate_connection_flow(driver, host: str) -> linear_flow.Flow:
    m = "terminate_connection"
    return _flow(m, TerminateConnectionTask(m, driver, host, addons=("volume:detach",)))


def detach_volume_flow(driver, host: str) -> linear_flow.Flow:
    m, detach = "detach_volume", ("volume:detach",)
    return _flow(
        m,
        CheckDetachTask(m, driver, host, addons=detach),
        NotifyUsageTask(m, host, "detach.start"),
        RemoveExportTask(m, driver, host, addons=detach),
        FinishDetachTask(m, driver, host, addons=detach),
    )


def attachment_delete_flow(driver, host: str) -> linear_flow.Flow:
    m, detach = "attachment_delete", ("volume:detach",)
    return _flow(
        m,
        NotifyUsageTask(m, host, "detach.start"),
        TerminateConnectionTask(m, driver, host, addons=detach),
        RemoveExportTask(m, driver, host, addons=detach),
    )
