"""Work in flight and its cleanup, as Cinder's ``workers`` table and ``cleanable`` objects.

Every operation a lost job could leave half-done (a volume created or deleted, a snapshot
made or removed) is a :class:`~core.cinder.models.Worker` row, from the status change that
starts it to the job that finishes it. The row also carries the cast that hands the work
on, which makes the table an outbox:

- :func:`cast` writes (or hands on) the row in the caller's transaction and enqueues the
  job once that commits. If Redis refuses, the row stays and the sweep sends it again.
- :func:`claim` is the first thing a job does. It takes the row only while the row still
  names this job (compare-and-swap), so a duplicate, stale or superseded job finds nothing
  and ends quietly.
- :func:`finish` deletes the row together with the job's last status change.
- :func:`clean` ends work whose job died, as Cinder's ``_do_cleanup`` does: a create cannot
  be resumed and becomes ``error`` with a user message, a delete is sent again (or ends
  ``error_deleting`` when its backend is gone for good), work the scheduler held is
  scheduled again.
- :func:`sweep` is the safety net the scheduler runs periodically (and admins through
  ``POST /workers/cleanup``): casts Redis lost, jobs that died, backends that never came back.

A job's owner is ``host:pid@start``: whoever sees that process gone on its own machine may
clean its work, and the compare-and-swap makes sure only one cleaner acts.
"""

import logging
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

import psutil
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from core.cinder import attachments, exceptions, messages, quota
from core.cinder.models import Snapshot, Volume, Worker
from core.kernel import events, plain_sql, queues
from core.kernel.models import Service
from core.kernel.numbers import ascii_int

LOG = logging.getLogger(__name__)

SCHEDULER = "cinder-scheduler"
# Statuses whose work is tracked, per resource type (Cinder's _is_cleanable).
CLEANABLE = {
    "VOLUME": ("creating", "downloading", "deleting", "extending", "reverting", *attachments.LOST),
    "SNAPSHOT": ("creating", "deleting"),
}
# What lost work ends as (Cinder's error statuses for each operation).
LOST_ENDINGS = {"deleting": "error_deleting", "extending": "error_extending"}
# Work that moves a volume (a retype, a migration): the volume keeps a status of its own
# ('available', 'maintenance', 'retyping'); its migration_status tells how far it got.
MOVES = ("retyping", "migrating")
MOVING = ("starting", "migrating", "completing")
# Removing a migration's destination volumes needs the agent's rpcapi, which nothing here
# may import: the agent's app registers how (see on_abandoned_targets).
_abandon_targets: Callable[..., int] | None = None
MODELS = {"VOLUME": Volume, "SNAPSHOT": Snapshot}
# RQ statuses of a job that will not run again: its work, if still there, is lost.
ENDED = ("finished", "failed", "stopped", "canceled")


def owner_name(pid: int | None = None) -> str:
    """``host:pid@start`` of a process (this one by default): unique even if a pid is reused."""
    process = psutil.Process(pid)
    return f"{socket.gethostname()}:{process.pid}@{process.create_time():.0f}"


def owner_gone(owner: str) -> bool:
    """True if ``owner`` names a process of this machine that no longer runs."""
    host, _, rest = owner.partition(":")
    if not owner or host != socket.gethostname():
        return False  # another machine's process: its own host must judge
    pid, _, started = rest.partition("@")
    try:
        return ascii_int(pid) is None or owner_name(int(pid)) != owner
    except psutil.Error:
        return True


# -- the life of a row -----------------------------------------------------------------


def cast(
    resource_type: str,
    resource_id,
    status: str,
    *,
    service: str,
    queue: str,
    func: str,
    from_job: str | None = None,
    strict: bool = False,
    first: bool = False,
    **kwargs,
) -> bool:
    """Record that the work on a resource is now ``func`` on ``service``; cast it on commit.

    ``from_job``: the running job hands the work on. Nothing happens (False) if the row no
    longer names that job: the work was cleaned up or the resource deleted meanwhile.
    ``strict``: a cast Redis refuses raises ServiceUnavailable (the API's create answers 503
    and rolls back); otherwise it is logged and the sweep sends it again.
    ``first``: the resource was just made and has no work row yet (one insert, no lookup).
    """
    key = {"resource_type": resource_type, "resource_id": resource_id}
    values = {
        "status": status,
        "service": service,
        "queue": queue,
        "func": func,
        "kwargs": kwargs,
        "job_id": uuid.uuid4().hex,
        "owner": "",
        "updated_at": timezone.now(),
    }
    if first:
        plain_sql.insert(Worker(**key, **values))
    elif from_job is None:
        Worker.objects.update_or_create(**key, defaults=values)
    elif not Worker.objects.filter(**key, job_id=from_job).update(**values):
        LOG.info("%s %s moved on before job %s could hand it over", *key.values(), from_job)
        return False
    transaction.on_commit(lambda: send(values, strict))
    return True


def send(values: dict, strict: bool = False) -> None:
    try:
        queues.cast(values["queue"], values["func"], job_id=values["job_id"], **values["kwargs"])
    except RedisError as error:
        if strict:
            raise exceptions.ServiceUnavailable() from error
        LOG.warning("Cast of %s not sent (%s); the sweep will send it again", values["func"], error)


def claim(resource_type: str, resource_id) -> bool:
    """Take the work for the running job; False if it is not (or no longer) this job's."""
    job_id = queues.current_job_id()
    if job_id is None:
        return False
    ours = {"resource_type": resource_type, "resource_id": resource_id, "job_id": job_id}
    taken = {"owner": owner_name(), "updated_at": timezone.now()}
    return bool(plain_sql.update(Worker, {**ours, "owner": ""}, taken))


def finish(resource_type: str, resource_id) -> None:
    """The running job is done with the work (call it with the last status change)."""
    Worker.objects.filter(
        resource_type=resource_type, resource_id=resource_id, job_id=queues.current_job_id()
    ).delete()


def begin_call(
    resource_type: str, resource_id, status: str, *, service: str, queue: str, func: str, **note
) -> str:
    """Record the work of an RPC call that holds the resource in ``status`` (a call's
    caller waits; the row is there so a job that dies never leaves the resource so).
    Returns the job id the call must use; InvalidVolume while other work is under way."""
    key = {"resource_type": resource_type, "resource_id": resource_id}
    job_id = uuid.uuid4().hex
    values = {"status": status, "service": service, "queue": queue, "func": func}
    try:
        row, created = Worker.objects.get_or_create(
            **key, defaults={**values, "kwargs": {"call": True, **note}, "job_id": job_id}
        )
    except IntegrityError:
        row, created = Worker.objects.filter(**key).first(), False
    if not created:
        raise exceptions.InvalidVolume(
            reason=f"{resource_id} has another operation under way ({row and row.status})."
        )
    return job_id


def call_pending(resource_type: str, resource_id, job_id: str) -> bool:
    """True while the call's work is still recorded (neither finished nor cleaned up)."""
    return Worker.objects.filter(
        resource_type=resource_type, resource_id=resource_id, job_id=job_id
    ).exists()


def end_call(resource_type: str, resource_id, job_id: str, why: str) -> str | None:
    """The caller's side of a call that failed or timed out: end its work if its job did not."""
    row = Worker.objects.filter(
        resource_type=resource_type, resource_id=resource_id, job_id=job_id
    ).first()
    return clean(row, why, resume=False) if row is not None else None


def owns(resource_type: str, resource_id) -> bool:
    """True while the running job still holds the work (nobody cleaned it up meanwhile)."""
    job_id = queues.current_job_id()
    return job_id is not None and (
        Worker.objects.filter(
            resource_type=resource_type, resource_id=resource_id, job_id=job_id
        ).exists()
    )


def drop(resource_type: str, resource_id) -> None:
    """The resource is gone without a job (an unscheduled volume deleted at once)."""
    Worker.objects.filter(resource_type=resource_type, resource_id=resource_id).delete()


# -- cleanup ---------------------------------------------------------------------------


def _take(row: Worker) -> bool:
    """Claim a row for cleaning: only if nobody moved it since it was read."""
    return bool(Worker.objects.filter(pk=row.pk, job_id=row.job_id, owner=row.owner).delete()[0])


def resend(row: Worker) -> bool:
    """Send the row's cast again with a new job (the old one is lost or dead)."""
    values = {
        "job_id": uuid.uuid4().hex,
        "owner": "",
        "updated_at": timezone.now(),
    }
    won = Worker.objects.filter(pk=row.pk, job_id=row.job_id, owner=row.owner).update(**values)
    if won:
        LOG.warning("Sending %s for %s %s again", row.func, row.resource_type, row.resource_id)
        fields = {"queue": row.queue, "func": row.func, "kwargs": row.kwargs} | values
        transaction.on_commit(lambda: send(fields))
    return bool(won)


def clean(row: Worker, why: str, resume: bool = True) -> str:
    """End work whose job died; returns what became of it.

    ``resume``: the work's service can do it again (a delete is sent again). Without it
    (the backend is gone for good) a delete ends ``error_deleting``. Work the scheduler
    held is always scheduled again: nothing was made yet.
    """
    if row.service == SCHEDULER or (resume and row.status == "deleting"):
        return "resent" if resend(row) else "moved on"
    with transaction.atomic():
        if not _take(row):
            return "moved on"
        model = MODELS[row.resource_type]
        resource = model.objects.filter(id=row.resource_id).first()
        if resource is None:
            return "gone"
        if row.status in MOVES:
            ending = _end_move(row, resource, why)
            LOG.warning("Volume %s was %s (%s): now %s", resource.id, row.status, why, ending)
            return ending.get("status") or ending.get("migration_status") or resource.status
        if resource.status not in CLEANABLE[row.resource_type]:
            return resource.status  # it finished meanwhile
        undo = attachments.LOST.get(resource.status) if row.resource_type == "VOLUME" else None
        if undo is not None:  # an attach or detach call: its own way back
            ending = undo(resource, row.kwargs)
            if ending is None:
                return "moved on"
        else:
            ending = LOST_ENDINGS.get(resource.status, "error")
            if not model.conditional_update(
                resource.id, {"status": resource.status}, status=ending
            ):
                return "moved on"
        if row.kwargs.get("reservations"):  # an extend's growth was reserved, never committed
            quota.rollback(row.kwargs["reservations"])
        if row.status == "reverting":  # the snapshot it restored from is usable again
            Snapshot.conditional_update(
                row.kwargs["snapshot_id"], {"status": "restoring"}, status="available"
            )
        messages.work_lost(resource, row.resource_type, resource.status, why)
        transaction.on_commit(lambda: notify(resource))
    LOG.warning(
        "%s %s was %s (%s): now %s", row.resource_type, resource.id, row.status, why, ending
    )
    return ending


def _end_move(row: Worker, volume: Volume, why: str) -> dict:
    """A lost retype or migration: ``migration_status`` ``error`` if it had started, the
    volume back to the status it had (from ``retyping`` or ``maintenance``), the
    reservations rolled back, the destination removed, the user told. Returns the changes
    ({} if it had ended meanwhile)."""
    ending = {}
    if volume.migration_status in MOVING:
        ending["migration_status"] = "error"
    if volume.status in ("retyping", "maintenance"):
        ending["status"] = volume.previous_status or "available"
    expected = {"status": volume.status, "migration_status": volume.migration_status}
    if not ending or not Volume.conditional_update(volume.id, expected, **ending):
        return {}
    quota.rollback(row.kwargs.get("reservations", []) + row.kwargs.get("old_reservations", []))
    if _abandon_targets is not None:
        _abandon_targets(volume.id)
    messages.work_lost(volume, "VOLUME", row.status, why)
    transaction.on_commit(lambda: notify(volume))
    return ending


def on_abandoned_targets(remove: Callable[..., int]) -> None:
    """Register how a migration's destinations are removed: ``remove(volume_id)``."""
    global _abandon_targets
    _abandon_targets = remove


def abandoned_targets(cutoff) -> dict[str, int]:
    """Destinations of migrations that ended without them (their source is no longer
    moving): removed. One still being created when its migration failed ends up here."""
    done: dict[str, int] = {}
    targets = Volume.objects.filter(
        migration_status__startswith="target:",
        status__in=("available", "error"),
        updated_at__lt=cutoff,
    )
    for source_id in {t.migration_status.removeprefix("target:") for t in targets}:
        try:
            moving = Volume.objects.filter(id=source_id, migration_status__in=MOVING).exists()
        except ValidationError:
            moving = False
        if not moving and _abandon_targets is not None:
            done["abandoned"] = done.get("abandoned", 0) + _abandon_targets(source_id)
    return done


def clean_dead_owners(rows: Iterable[Worker]) -> dict[str, int]:
    """Clean the work whose job ran in a process of this machine that is gone."""
    done: dict[str, int] = {}
    for row in rows:
        if row.owner and owner_gone(row.owner):
            outcome = clean(row, f"the process running it ({row.owner}) died")
            done[outcome] = done.get(outcome, 0) + 1
    return done


def clean_all(rows: Iterable[Worker], why: str) -> dict[str, int]:
    """End every piece of this work now: its service is gone (a cleanup an admin asked for)."""
    done: dict[str, int] = {}
    for row in rows:
        outcome = clean(row, why, resume=False)
        done[outcome] = done.get(outcome, 0) + 1
    return done


def sweep() -> dict[str, int]:
    """The scheduler's periodic safety net: work no running service will finish, ended.

    1. The scheduler's own work, held by a scheduler process that died: scheduled again.
    2. A cast no worker will run: Redis never got it or lost it, or a worker took it from
       its queue (more than the grace period ago) and died before claiming its work. Sent
       again.
    3. A job that ended without finishing its work (it returned early, failed, or RQ
       abandoned it): cleaned, a delete ending ``error_deleting`` rather than failing again
       for ever.
    4. Work of a backend down longer than ``service_down_time``: ended (error states).
    5. A migration's destination volume its migration no longer wants: removed.
    A live backend's dead workers are its agent's to clean (at once, or at init_host), or
    an admin's (``POST /workers/cleanup``), as in Cinder. Rows younger than a few seconds
    are left alone: their cast may still be under way.
    """
    now = timezone.now()
    rows = Worker.objects.filter(updated_at__lt=now - timedelta(seconds=grace_seconds()))
    down = down_backends(now)
    done: dict[str, int] = {}
    for row in rows:
        outcome = settle(row, down)
        if outcome is not None:
            done[outcome] = done.get(outcome, 0) + 1
    for outcome, n in abandoned_targets(now - timedelta(seconds=grace_seconds())).items():
        done[outcome] = done.get(outcome, 0) + n
    return done


def settle(row: Worker, down: set[str]) -> str | None:
    """The sweep's rule for one row (see :func:`sweep`); None while a job is on it."""
    if row.service == SCHEDULER and row.owner and owner_gone(row.owner):
        return clean(row, f"the scheduler running it ({row.owner}) died")
    if row.service in down:
        return clean(row, f"its volume service {row.service} is down", resume=False)
    status = queues.job_status(row.job_id)
    if not row.owner and status == "started" and just_taken(row.job_id):
        return None  # a worker has just taken it from its queue: its claim is on the way
    if not row.owner and not (status == "queued" and queues.waiting(row.queue, row.job_id)):
        if row.kwargs.get("call"):  # its caller waited for that job alone: never again
            return clean(row, "its call never ran", resume=False)
        return "resent" if resend(row) else "moved on"
    if status in ENDED or (status is None and row.owner):
        return clean(row, f"its job {status or 'vanished'}", resume=False)
    return None


def unstick(row: Worker) -> str:
    """An admin's cleanup of one piece of work, now: work whose process died is cleaned as
    its agent would clean it, the rest as the sweep would (without its grace period)."""
    if row.owner and owner_gone(row.owner):
        return clean(row, f"the process running it ({row.owner}) died; an admin cleaned it up")
    return settle(row, down_backends(timezone.now())) or "still running"


def down_backends(now) -> set[str]:
    cutoff = now - timedelta(seconds=settings.SERVICE_DOWN_TIME)
    return set(
        Service.objects.filter(binary="cinder-volume", heartbeat_at__lt=cutoff).values_list(
            "host", flat=True
        )
    )


def just_taken(job_id: str) -> bool:
    """True if a worker took the job less than the grace period ago. The grace counts from
    the cast, so past saturation a job that waited in its queue longer than that would
    otherwise be sent again in the instant between a worker taking it and claiming it."""
    taken = queues.started_at(job_id)
    return taken is not None and timezone.now() - taken < timedelta(seconds=grace_seconds())


def grace_seconds() -> float:
    """How long a fresh row is left alone: its cast may still be on its way to Redis."""
    return max(2.0, 2 * settings.REPORT_INTERVAL)


def notify(resource) -> None:
    volume_id = resource.id if isinstance(resource, Volume) else resource.volume_id
    events.volume_changed(volume_id, resource.project_id)
