"""Migrating a volume to another backend: Cinder's ``VolumeManager.migrate_volume`` and its
generic, host-assisted path, which a retype that must move the volume runs too.

Cinder runs these as plain manager methods; here their steps are tasks, recorded like the
create's. On the volume's own (source) backend, ``volume_migrate_manager``:

1. ``MigrateVolumeTask``: ``migration_status`` ``migrating``; the driver may move the volume
   itself (the LVM driver never does here), else the generic way follows.
2. ``MigrateVolumeGenericTask``: a destination row (``migration_status`` ``target:<id>``,
   out of quota, hidden from users' lists) created on the target backend through that
   backend's own create flow; this job waits until it is ``available``.
3. ``CopyVolumeDataTask``: dd from the volume's LV into the destination's, with the clone
   path's flags (Cinder attaches the destination over iSCSI; here it is reached through
   its backend's data file, see ``LVMDriver.remote_path``).
4. ``MigrateVolumeCompletionTask``: ``completing``; the work goes to the destination.

On the destination, ``volume_migrate_completion`` (Cinder calls the destination there and
finishes on the source; a queue cannot answer a call, so the rest runs where the data is):

5. ``UpdateMigratedVolumeTask``: the driver renames the new LV to the volume's name.
6. ``FinishVolumeMigrationTask``: the rows swap identities (the volume keeps its id and takes
   the destination's host; the temporary row takes the old host and is deleted there with
   the old LV), ``migration_status`` ``success``; a retype's quota is committed and
   ``volume.retype`` sent.

Any failure ends the migration ``error`` (the volume back to its status), rolls a retype's
reservations back and removes the destination, as Cinder's ``_clean_temporary_volume``.
"""

import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from taskflow.patterns import linear_flow

from agent import faults
from agent import rpcapi as volume_rpcapi
from agent.drivers import backend_config, driver_for
from agent.manager_tasks import ManagerMethodTask
from core.cinder import cleanable, exceptions, messages, quota
from core.cinder.models import Volume, VolumeType
from core.kernel import events, queues
from core.kernel.hosts import extract_host
from core.kernel.models import Service

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_migrate_manager"
COMPLETION_FLOW_NAME = "volume_migrate_completion"
MOVING = ("starting", "migrating", "completing")


class MigrateTask(ManagerMethodTask):
    module = "cinder.volume.manager.VolumeManager"
    addons = ("volume:migrate",)


def target_context(context: dict, volume_id: str, move: dict) -> dict:
    """The context of the destination's create and delete: recorded on the volume's page,
    under the operation that moves it."""
    return {**context, "operation": move["operation"], "migration_of": str(volume_id)}


def migration_failed(volume_id: str, move: dict, error: Exception | None) -> None:
    """End a migration ``error``: the volume back to its status (a retype's and a locked
    volume's ``previous_status``), a retype's reservations rolled back, the destination
    removed, the user told, the work finished."""
    with transaction.atomic():
        volume = Volume.objects.filter(id=volume_id, migration_status__in=MOVING).first()
        if volume is not None:
            ending = {"migration_status": "error"}
            if volume.status in ("retyping", "maintenance"):
                ending["status"] = volume.previous_status or "available"
            expected = {"status": volume.status, "migration_status": volume.migration_status}
            if Volume.conditional_update(volume_id, expected, **ending):
                quota.rollback(move.get("reservations", []) + move.get("old_reservations", []))
                messages.operation_failed(volume, move["operation"], "unknown", error)
        abandon_targets(volume_id, move)
        cleanable.finish("VOLUME", volume_id)
    if volume is not None:
        events.volume_changed(volume_id, volume.project_id)


def abandon_targets(volume_id, move: dict | None = None) -> int:
    """Remove the destinations of a migration of ``volume_id`` that will not complete: each
    is deleted through its own backend's delete (or at once if never placed). One still
    being created is left to its create; the sweep removes it once that ends."""
    move = move or {"operation": "migrate"}
    removed = 0
    for target in Volume.objects.filter(migration_status=f"target:{volume_id}"):
        if target.status in ("creating", "deleting"):
            continue
        if not target.host:
            removed += Volume.destroy(target.id, {"status": target.status})
            continue
        if Volume.conditional_update(target.id, {"status": target.status}, status="deleting"):
            context = {"project_id": str(target.project_id), "user_id": str(target.user_id)}
            volume_rpcapi.delete_volume(
                target_context(context, volume_id, move), target.host, str(target.id)
            )
            removed += 1
    return removed


class MigrateVolumeTask(MigrateTask):
    """``migrate_volume``: ``migration_status`` ``migrating``, then the driver's own
    migration unless ``force_host_copy`` (the LVM driver declines: the generic way follows).

    Reversion strategy (whichever later step failed): :func:`migration_failed`.
    """

    def execute(self, volume_id, target, force_host_copy):
        if not Volume.conditional_update(
            volume_id, {"migration_status": "starting"}, migration_status="migrating"
        ):
            raise exceptions.VolumeMigrationFailed(reason="the migration was ended meanwhile")
        volume = Volume.objects.get(id=volume_id)
        events.volume_changed(volume_id, volume.project_id)
        if force_host_copy:
            return {"driver_assisted": False, "why": "force_host_copy"}
        moved, _update = self.driver.migrate_volume(str(volume.name_id or volume.id))
        if moved:  # not the LVM driver's answer here; a driver that moves must be finished
            raise exceptions.VolumeMigrationFailed(reason="driver-assisted migration")
        return {"driver_assisted": False, "target": target}

    def revert(self, volume_id, move, flow_failures=None, **kwargs):
        failure = next(iter((flow_failures or {}).values()), None)
        migration_failed(volume_id, move, failure.exception if failure else None)


class MigrateVolumeGenericTask(MigrateTask):
    """``_migrate_volume_generic``: the destination row, created on the target backend by
    its own create flow (no reschedule), waited for until ``available``.

    Reversion strategy: N/A (MigrateVolumeTask's revert removes the destination).
    """

    def execute(self, context, volume_id, target, move):
        source = Volume.objects.get(id=volume_id)
        if source.attachments.filter(attach_status="attached").exists():
            raise exceptions.VolumeMigrationFailed(
                reason="the volume is attached: Cinder has Nova copy it "
                "(update_server_volume), and there is no Nova here"
            )
        zone = (
            Service.objects.filter(binary="cinder-volume", host=extract_host(target))
            .values_list("availability_zone", flat=True)
            .first()
        )
        with transaction.atomic():
            dest = Volume.objects.create(
                project_id=source.project_id,
                user_id=source.user_id,
                display_name=source.display_name,
                display_description=source.display_description,
                size=source.size,
                volume_type_id=move.get("new_type_id") or source.volume_type_id,
                bootable=source.bootable,
                multiattach=source.multiattach,
                metadata=source.metadata,
                host=target,
                availability_zone=zone or source.availability_zone,
                status="creating",
                attach_status="detached",
                migration_status=f"target:{source.id}",
                use_quota=False,
                scheduled_at=timezone.now(),
            )
            volume_rpcapi.create_volume(
                target_context(context, volume_id, move), target, str(dest.id), {}, {}
            )
        self._wait_available(volume_id, dest.id)
        return {"new_volume_id": str(dest.id), "host": target}

    @staticmethod
    def _wait_available(volume_id, dest_id) -> None:
        """Cinder polls (sleeping tries² seconds) up to migration_create_volume_timeout_secs;
        here a short poll, so the page moves on as soon as the destination is there."""
        deadline = time.monotonic() + settings.MIGRATION_CREATE_VOLUME_TIMEOUT_SECS
        delay = 0.1
        while True:
            status = Volume.objects.filter(id=dest_id).values_list("status", flat=True).first()
            if status == "available":
                return
            if status in (None, "error"):
                reason = "failed to create new_volume on destination"
            elif time.monotonic() > deadline:
                reason = "timeout creating new_volume on destination"
            elif not Volume.objects.filter(id=volume_id, migration_status="migrating").exists():
                reason = "the migration was ended meanwhile"
            else:
                time.sleep(delay)
                delay = min(2 * delay, 1.0)
                continue
            raise exceptions.VolumeMigrationFailed(reason=reason)


class CopyVolumeDataTask(MigrateTask):
    """``_copy_volume_data``: dd from the volume's LV to the destination's, ``conv=sparse``
    when the destination reports ``sparse_copy_volume`` (thin LVM).

    Reversion strategy: N/A (MigrateVolumeTask's revert removes the destination).
    """

    def execute(self, volume_id, new_volume):
        faults.apply(self.host, "migrate")
        source = Volume.objects.get(id=volume_id)
        dest = Volume.objects.get(id=new_volume["new_volume_id"])
        config = backend_config(dest.host)
        dest_path = driver_for(config).remote_path(str(dest.id))
        sparse = config.lvm_type == "thin"  # what the LVM driver reports as sparse_copy_volume
        self.driver.copy_volume_data(
            str(source.name_id or source.id), dest_path, source.size, sparse
        )
        return {"from": source.name, "to": dest.name, "to_backend": extract_host(dest.host)}


class MigrateVolumeCompletionTask(MigrateTask):
    """``migrate_volume_completion``'s start: ``completing``, then the destination's backend
    renames and swaps (``update_migrated_volume``), handed the work.

    Reversion strategy: N/A (MigrateVolumeTask's revert ends the migration ``error``).
    """

    def execute(self, context, volume_id, new_volume, move):
        volume = Volume.objects.get(id=volume_id)
        move = {**move, "original_status": volume.previous_status or "available"}
        with transaction.atomic():
            handed = Volume.conditional_update(
                volume_id, {"migration_status": "migrating"}, migration_status="completing"
            ) and volume_rpcapi.update_migrated_volume(
                context,
                new_volume["host"],
                volume_id,
                new_volume["new_volume_id"],
                move,
                from_job=queues.current_job_id(),
            )
            if not handed:
                transaction.set_rollback(True)
        if not handed:
            raise exceptions.VolumeMigrationFailed(reason="the migration was ended meanwhile")
        events.volume_changed(volume_id, volume.project_id)
        return {"migration_status": "completing", "handed_to": new_volume["host"]}


class UpdateMigratedVolumeTask(MigrateTask):
    """``update_migrated_volume``, on the destination: the driver renames the new LV to the
    volume's name (LVM, if ``available``), else the volume points at the new LV
    (``name_id``); the temporary row keeps the volume's old values of what changed.

    Reversion strategy (this or the next step failed): :func:`migration_failed`.
    """

    def execute(self, volume_id, new_volume_id, move):
        faults.apply(self.host, "migrate")  # the destination's part of the migration
        source = Volume.objects.get(id=volume_id)
        dest = Volume.objects.get(id=new_volume_id)
        update = self.driver.update_migrated_volume(
            str(source.id),
            str(dest.id),
            str(dest.name_id) if dest.name_id else None,
            dest.provider_location,
            move["original_status"],
        )
        with transaction.atomic():
            Volume.objects.filter(id=dest.id).update(
                name_id=source.name_id, provider_location=source.provider_location
            )
            Volume.objects.filter(id=source.id).update(
                name_id=update["name_id"], provider_location=update["provider_location"] or ""
            )
        return update

    def revert(self, volume_id, move, flow_failures=None, **kwargs):
        failure = next(iter((flow_failures or {}).values()), None)
        migration_failed(volume_id, move, failure.exception if failure else None)


class FinishVolumeMigrationTask(MigrateTask):
    """``finish_volume_migration`` and the rest of the completion: the rows swap (host,
    zone, type, status), the volume ``success`` and back to its status, the temporary row
    ``deleting`` on the old backend, where the delete flow removes the old LV and the row.
    A retype's reservations are committed here and ``volume.retype`` sent.

    Reversion strategy: N/A (last step).
    """

    def execute(self, context, volume_id, new_volume_id, move):
        with transaction.atomic():
            source = Volume.objects.select_for_update().get(id=volume_id)
            dest = Volume.objects.select_for_update().get(id=new_volume_id)
            if source.migration_status != "completing":
                raise exceptions.VolumeMigrationFailed(reason="the migration was ended meanwhile")
            old_host, old_zone = source.host, source.availability_zone
            Volume.objects.filter(id=source.id).update(
                host=dest.host,
                availability_zone=dest.availability_zone,
                volume_type_id=dest.volume_type_id,
                status=move["original_status"],
                previous_status=dest.status,
                migration_status="success",
                updated_at=timezone.now(),
            )
            Volume.objects.filter(id=dest.id).update(
                host=old_host,
                availability_zone=old_zone,
                name_id=dest.name_id or source.id,
                status="deleting",
                migration_status="deleting",
                display_description=f"migration src for {source.id}",
                updated_at=timezone.now(),
            )
            quota.commit(move.get("old_reservations", []) + move.get("reservations", []))
            cleanable.finish("VOLUME", volume_id)
            volume_rpcapi.delete_volume(
                target_context(context, volume_id, move), old_host, str(dest.id)
            )
        source.refresh_from_db()
        if move["operation"] == "retype":
            messages.notify_volume_usage(source, "retype", self.host)
        events.volume_changed(volume_id, source.project_id)
        new_type = VolumeType.objects.get(id=source.volume_type_id).name
        return {"host": source.host, "volume_type": new_type, "status": source.status}


def get_flow(driver, host: str) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        MigrateVolumeTask(driver, host),
        MigrateVolumeGenericTask(driver, host, provides="new_volume"),
        CopyVolumeDataTask(driver, host),
        MigrateVolumeCompletionTask(driver, host),
    )


def get_completion_flow(driver, host: str) -> linear_flow.Flow:
    return linear_flow.Flow(COMPLETION_FLOW_NAME).add(
        UpdateMigratedVolumeTask(driver, host),
        FinishVolumeMigrationTask(driver, host),
    )
