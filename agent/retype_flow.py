"""Retyping a volume on its backend (Cinder's ``VolumeManager.retype``).

Cinder runs it as one manager method; its steps run here as tasks: compare the types, let
the driver retype when the scheduler kept the volume on this backend (the LVM driver has
nothing to change), then either finish in place (the new type, for its snapshots too, both
reservations committed, ``volume.retype``) or set ``migration_status`` ``starting``, after
which the job runs the migration (:mod:`agent.migrate_flow`) with the new type.
"""

import logging

from django.db import transaction
from taskflow.patterns import linear_flow

from agent.manager_tasks import ManagerMethodTask
from core.cinder import cleanable, exceptions, messages, quota
from core.cinder.models import Snapshot, Volume, VolumeType
from core.kernel import events
from core.kernel.hosts import extract_host

LOG = logging.getLogger(__name__)
FLOW_NAME = "volume_retype_manager"
# Cinder's AVAILABLE_MIGRATION_STATUS: a volume may start migrating from these.
MIGRATION_DONE = ("", "deleting", "error", "success")


class RetypeTask(ManagerMethodTask):
    module = "cinder.volume.manager.VolumeManager.retype"
    addons = ("volume:retype",)


def types_diff(old: VolumeType, new: VolumeType) -> dict:
    """Cinder's ``volume_types_diff`` for extra specs: ``{key: (old, new)}`` where they differ."""
    before, after = old.extra_specs_dict(), new.extra_specs_dict()
    return {
        key: (before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


class RetypeOnBackendTask(RetypeTask):
    """The types compared (``volume_types_diff``); equal types need nothing. If the
    scheduler kept the volume on this backend, the driver's ``retype`` (LVM: True, nothing
    to change); a driver error means "not retyped", as in Cinder.

    Reversion strategy (this or the next step failed): Cinder's ``_retype_error``: the volume
    back to the status it had, both reservations rolled back, the user told.
    """

    def execute(self, volume_id, new_type_id, target):
        volume = Volume.objects.select_related("volume_type").get(id=volume_id)
        diff = types_diff(volume.volume_type, VolumeType.objects.get(id=new_type_id))
        if not diff:
            return {"retyped": True, "diff": diff}
        if extract_host(target) != extract_host(self.host):
            return {"retyped": False, "diff": diff, "why": f"the new type needs {target}"}
        try:
            retyped = self.driver.retype(str(volume.name_id or volume.id))
        except Exception:
            LOG.exception("Volume %s: driver error when trying to retype", volume_id)
            retyped = False
        return {"retyped": retyped, "diff": diff}

    def revert(self, volume_id, reservations, old_reservations, flow_failures=None, **kwargs):
        failure = next(iter((flow_failures or {}).values()), None)
        with transaction.atomic():
            volume = Volume.objects.get(id=volume_id)
            back = volume.previous_status or "available"
            if Volume.conditional_update(volume_id, {"status": "retyping"}, status=back):
                quota.rollback(old_reservations + reservations)
                messages.operation_failed(
                    volume, "retype", "unknown", failure.exception if failure else None
                )
            cleanable.finish("VOLUME", volume_id)
        events.volume_changed(volume_id, volume.project_id)


class FinishRetypeTask(RetypeTask):
    """Retyped in place: the new type (its snapshots' too) and pool, the status it had,
    both reservations committed, ``volume.retype``. Otherwise the volume must move: refused
    under ``migration_policy`` ``never`` or with snapshots, else ``migration_status``
    ``starting`` and the job migrates it.

    Reversion strategy: N/A (RetypeOnBackendTask's revert ends a refused retype).
    """

    def execute(self, volume_id, new_type_id, target, migration_policy, reservations,
                old_reservations, retype):  # fmt: skip
        if retype["retyped"]:
            return self._in_place(volume_id, new_type_id, target, reservations + old_reservations)
        if migration_policy != "on-demand":
            raise exceptions.VolumeMigrationFailed(
                reason="Retype requires migration but is not allowed."
            )
        if Snapshot.objects.filter(volume_id=volume_id).exists():
            raise exceptions.InvalidVolume(reason="Volume must not have snapshots.")
        if not Volume.conditional_update(
            volume_id,
            {"status": "retyping", "migration_status__in": MIGRATION_DONE},
            migration_status="starting",
        ):
            raise exceptions.InvalidVolume(reason="Volume is already being migrated.")
        return {"migrate_to": target}

    def _in_place(self, volume_id, new_type_id, target, reservations) -> dict:
        with transaction.atomic():
            volume = Volume.objects.get(id=volume_id)
            won = Volume.conditional_update(
                volume_id,
                {"status": "retyping"},
                volume_type_id=new_type_id,
                host=target,
                status=volume.previous_status or "available",
            )
            if won:
                Snapshot.objects.filter(volume_id=volume_id).update(volume_type_id=new_type_id)
                quota.commit(reservations)
            else:
                quota.rollback(reservations)
            cleanable.finish("VOLUME", volume_id)
        volume.refresh_from_db()
        if won:
            messages.notify_volume_usage(volume, "retype", self.host)
        events.volume_changed(volume_id, volume.project_id)
        return {"in_place": won, "volume_type": volume.volume_type.name, "host": volume.host}


def get_flow(driver, host: str) -> linear_flow.Flow:
    return linear_flow.Flow(FLOW_NAME).add(
        RetypeOnBackendTask(driver, host, provides="retype"),
        FinishRetypeTask(driver, host),
    )
