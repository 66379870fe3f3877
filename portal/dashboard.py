"""The dashboard's picture: volumes, events, pools, queues and services.

Scoped to the user's projects; admins see every project.
"""

import logging

from django.utils import timezone
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from portal.access import projects_of
from portal.models import FlowRun, Project, Service
from portal.queues import SCHEDULER_QUEUE, redis_connection, volume_queue_name
from scheduler.models import Pool
from volumes.models import Notification, UserMessage, Volume
from volumes.presenters import volume_table

LOG = logging.getLogger(__name__)
FEED_LENGTH = 30
VOLUMES_SHOWN = 50
FAILED_JOBS_SHOWN = 3


def visible_projects(user) -> list[Project] | None:
    """None means every project (an admin)."""
    return None if user.is_superuser else projects_of(user)


def _scoped(queryset, projects, field: str = "project_id"):
    if projects is None:
        return queryset
    return queryset.filter(**{f"{field}__in": [p.pk for p in projects]})


def event_feed(projects, names: dict) -> list[dict]:
    """Flow starts and ends, notifications and user messages, newest first."""
    runs = _scoped(FlowRun.objects.all(), projects).order_by("-created_at")[:FEED_LENGTH]
    entries = []
    for run in runs:
        label = f"{run.get_flow_display()} flow #{run.attempt}"
        if run.started_at:
            entries.append(
                {
                    "at": run.started_at,
                    "kind": "flow",
                    "icon": "▶",
                    "text": f"{label} started",
                    "volume_id": run.volume_id,
                }
            )
        if run.ended_at:
            entries.append(
                {
                    "at": run.ended_at,
                    "kind": "flow",
                    "icon": "■",
                    "text": f"{label} {run.state}",
                    "volume_id": run.volume_id,
                    "state": run.state,
                }
            )
    notes = _scoped(Notification.objects.all(), projects).order_by("-created_at")[:FEED_LENGTH]
    for n in notes:
        entries.append(
            {
                "at": n.created_at,
                "kind": "notification",
                "icon": "✉",
                "text": f"{n.event_type} from {n.publisher_id}",
                "volume_id": n.volume_id,
            }
        )
    messages = _scoped(UserMessage.objects.all(), projects).order_by("-created_at")[:FEED_LENGTH]
    for m in messages:
        entries.append(
            {
                "at": m.created_at,
                "kind": "message",
                "icon": "⚠",
                "text": m.user_message,
                "volume_id": m.resource_uuid,
            }
        )
    entries.sort(key=lambda e: e["at"], reverse=True)
    entries = entries[:FEED_LENGTH]
    for e in entries:
        e["volume_name"] = names.get(e["volume_id"]) or str(e["volume_id"] or "")[:8]
    return entries


def pool_rows() -> list[dict]:
    rows = []
    for pool in Pool.objects.all():
        caps = pool.capabilities or {}
        total = float(caps.get("total_capacity_gb") or 0)
        free = float(caps.get("free_capacity_gb") or 0)
        reserved = float(caps.get("reserved_percentage") or 0)
        used = max(total - free, 0.0)
        rows.append(
            {
                "name": pool.name,
                "zone": pool.availability_zone,
                "total": total,
                "free": free,
                "provisioned": caps.get("provisioned_capacity_gb"),
                "ratio": caps.get("max_over_subscription_ratio"),
                "thin": bool(caps.get("thin_provisioning_support")),
                "used_percent": round(100 * used / total, 1) if total else 0.0,
                "reserved_percent": reserved,
                "reported_at": pool.reported_at,
            }
        )
    return rows


def rq_picture(volume_hosts: list[str]) -> dict:
    """Queue depths, workers and failed jobs, straight from RQ."""
    connection = redis_connection()
    names = [SCHEDULER_QUEUE] + sorted({volume_queue_name(h) for h in volume_hosts})
    try:
        queues = []
        for name in names:
            queue = Queue(name, connection=connection)
            failed = FailedJobRegistry(queue=queue)
            failed_ids = failed.get_job_ids(0, FAILED_JOBS_SHOWN - 1)
            jobs = [j for j in Job.fetch_many(failed_ids, connection=connection) if j]
            queues.append(
                {
                    "name": name,
                    "queued": queue.count,
                    "started": StartedJobRegistry(queue=queue).count,
                    "failed": failed.count,
                    "failed_jobs": [
                        {
                            "id": job.id,
                            "func": job.func_name,
                            "error": (job.exc_info or "").strip().splitlines()[-1:] or [""],
                        }
                        for job in jobs
                    ],
                }
            )
        workers = [
            {
                "name": w.name,
                "state": w.get_state(),
                "queues": ", ".join(w.queue_names()),
                "current": w.get_current_job_id() or "",
                "done": w.successful_job_count,
                "failed": w.failed_job_count,
            }
            for w in Worker.all(connection=connection)
        ]
    except Exception as error:  # Redis down: say so rather than break the page
        LOG.warning("Could not read RQ: %s", error)
        return {"error": str(error), "queues": [], "workers": []}
    workers.sort(key=lambda w: w["name"])
    return {"error": "", "queues": queues, "workers": workers}


def dashboard_context(user) -> dict:
    projects = visible_projects(user)
    volumes = _scoped(Volume.objects.select_related("volume_type", "project"), projects)
    volumes = volume_table(volumes.order_by("-created_at")[:VOLUMES_SHOWN])
    names = {v.id: (v.display_name or str(v.id)[:8]) for v in volumes}
    now = timezone.now()
    services = list(Service.objects.all())
    for service in services:
        service.up = service.is_up(now)
        service.age = service.heartbeat_age(now)
    volume_hosts = [s.host for s in services if s.binary == "cinder-volume"]
    counts = {}
    for v in volumes:
        counts[v.status] = counts.get(v.status, 0) + 1
    return {
        "all_projects": projects is None,
        "projects": projects,
        "volumes": volumes,
        "status_counts": sorted(counts.items()),
        "feed": event_feed(projects, names),
        "pools": pool_rows(),
        "rq": rq_picture(volume_hosts),
        "services": services,
        "hosts": _host_stats(services),
    }


def _host_stats(services: list[Service]) -> list[dict]:
    """One row per agent host (several backends on a host report the same machine)."""
    hosts: dict[str, dict] = {}
    for s in services:
        if s.binary != "cinder-volume" or not s.host_stats:
            continue
        host = s.host.partition("@")[0]
        row = hosts.setdefault(host, {"host": host, "backends": [], "stats": s.host_stats})
        row["backends"].append(s.host.partition("@")[2])
    return [hosts[h] for h in sorted(hosts)]
