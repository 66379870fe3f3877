"""The dashboard's picture: volumes, events, pools, queues and services.

Scoped to the user's projects; admins see every project.
"""

import logging

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_rq.settings import get_queues_map
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.results import Result

from core.cinder.access import projects_of
from core.cinder.models import Project, Volume
from core.kernel.hosts import backend_parts
from core.kernel.models import Service
from core.kernel.queues import SCHEDULER_QUEUE, redis_connection, volume_queue_name
from portal import supervision
from scheduler.backends import pool_rows
from volumes import history
from volumes.presenters import volume_table

LOG = logging.getLogger(__name__)
VOLUMES_SHOWN = 50
FAILED_JOBS_SHOWN = 3
FAILED_JOBS_WINDOW = 4 * FAILED_JOBS_SHOWN


def visible_projects(user) -> list[Project] | None:
    """None means every project (an admin)."""
    return None if user.is_superuser else projects_of(user)


def _scoped(queryset, projects, field: str = "project_id"):
    if projects is None:
        return queryset
    return queryset.filter(**{f"{field}__in": [p.pk for p in projects]})


def rq_picture(volume_hosts: list[str], failed_jobs: bool = False) -> dict:
    """Queue depths and workers, straight from RQ; the failed jobs themselves (whose
    arguments and errors belong to every project) only when ``failed_jobs``, each linked
    to its page in django-rq's dashboard (the traceback)."""
    connection = redis_connection()
    names = [SCHEDULER_QUEUE] + sorted({volume_queue_name(h) for h in volume_hosts})
    indexes = get_queues_map() if failed_jobs else {}
    try:
        queues = []
        for name in names:
            queue = Queue(name, connection=connection)
            failed = FailedJobRegistry(queue=queue)
            jobs = _newest_failed(failed, connection) if failed_jobs else []
            queues.append(
                {
                    "name": name,
                    "queued": queue.count,
                    "started": StartedJobRegistry(queue=queue).count,
                    "failed": failed.count,
                    "failed_url": _rq_url("failed_jobs", indexes.get(name)),
                    "failed_jobs": [_failed_job(job, indexes.get(name)) for job in jobs],
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
        return {"error": type(error).__name__, "queues": [], "workers": []}
    workers.sort(key=lambda w: w["name"])
    return {"error": "", "queues": queues, "workers": workers}


def _rq_url(view: str, queue_index: int | None, *args) -> str:
    """A page of django-rq's dashboard (in the admin); "" for a queue it does not list."""
    if queue_index is None:
        return ""
    return reverse(f"admin:django_rq_{view}", args=[queue_index, *args])


def _newest_failed(failed: FailedJobRegistry, connection) -> list[Job]:
    """The newest failures, newest first: what an operator looks for. The registry orders
    by whole seconds, so a few more than shown are read and ordered by when each ended."""
    ids = failed.get_job_ids(0, FAILED_JOBS_WINDOW - 1, desc=True)
    jobs = [job for job in Job.fetch_many(ids, connection=connection) if job]
    jobs.sort(key=lambda job: job.ended_at.timestamp() if job.ended_at else 0.0, reverse=True)
    return jobs[:FAILED_JOBS_SHOWN]


def _failed_job(job: Job, queue_index: int | None) -> dict:
    """A failed job: its last error line, linked to its traceback (else to the job)."""
    result = job.latest_result()
    failed = result is not None and result.type == Result.Type.FAILED
    return {
        "id": job.id,
        "func": job.func_name,
        "error": (result.exc_string or "").strip().splitlines()[-1:] if failed else [""],
        "url": _rq_url("result_detail", queue_index, job.id, result.id)
        if failed
        else _rq_url("job_detail", queue_index, job.id),
    }


def dashboard_context(user) -> dict:
    projects = visible_projects(user)
    volumes = _scoped(Volume.objects.select_related("volume_type", "project"), projects)
    volumes = volume_table(volumes.order_by("-created_at")[:VOLUMES_SHOWN])
    names = {v.id: (v.display_name or str(v.id)[:8]) for v in volumes}
    now = timezone.now()
    services = list(Service.objects.all())
    for service in services:
        service.up = service.is_alive(now)
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
        "feed": history.recent(None if projects is None else [p.pk for p in projects], names),
        "pools": pool_rows()[0],
        "rq": rq_picture(volume_hosts, failed_jobs=projects is None),
        "services": services,
        "hosts": _host_stats(services),
        "processes": supervision.processes(settings.VAR_DIR),
    }


def _host_stats(services: list[Service]) -> list[dict]:
    """One row per agent host (several backends on a host report the same machine)."""
    hosts: dict[str, dict] = {}
    for s in services:
        if s.binary != "cinder-volume" or not s.host_stats:
            continue
        host, backend = backend_parts(s.host)
        row = hosts.setdefault(host, {"host": host, "backends": [], "stats": s.host_stats})
        row["backends"].append(backend)
    return [hosts[h] for h in sorted(hosts)]
