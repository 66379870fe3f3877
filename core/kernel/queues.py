"""RQ queues for the casts between services.

Queues are made by name (a backend's queue ``volume.<host>@<backend>`` is not
known in advance) and honour django-rq's ``on_db_commit`` mode: a cast made
inside a transaction is enqueued only when that transaction commits.
"""

from functools import cache

from django.conf import settings
from django_rq.queues import DjangoRQ
from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job

from core.kernel.hosts import extract_host

SCHEDULER_QUEUE = "scheduler"


@cache
def redis_connection() -> Redis:
    return Redis.from_url(settings.REDIS_URL)


class CastQueue(DjangoRQ):
    def original_enqueue_call(self, *args, **kwargs):
        # django-rq looks the queue's result TTL up in RQ_QUEUES, which only
        # lists static queues; backend queues are dynamic.
        return Queue.enqueue_call(self, *args, **kwargs)


def get_queue(name: str) -> CastQueue:
    return CastQueue(name, connection=redis_connection(), default_timeout=600)


def volume_queue_name(host: str) -> str:
    """``host@backend`` (or ``host@backend#pool``) -> ``volume.host@backend``."""
    return f"volume.{extract_host(host, 'backend')}"


def cast(
    queue_name: str, func: str, *, job_timeout: int = 600, job_id: str | None = None, **kwargs
) -> None:
    """Enqueue ``func(**kwargs)`` on the queue (once the caller's transaction commits)."""
    get_queue(queue_name).enqueue_call(
        func,
        kwargs=kwargs,
        timeout=job_timeout,
        result_ttl=3600,
        failure_ttl=7 * 86400,
        job_id=job_id,
    )


def job_status(job_id: str) -> str | None:
    """What Redis knows of a job: ``queued``, ``started``, ``finished``, ``failed``..., or None."""
    try:
        return Job.fetch(job_id, connection=redis_connection()).get_status(refresh=False)
    except NoSuchJobError:
        return None


def waiting(queue_name: str, job_id: str) -> bool:
    """True if the job is in its queue, waiting for a worker (LPOS, cheap on long queues)."""
    return Queue(queue_name, connection=redis_connection()).get_job_position(job_id) is not None


def current_job_id() -> str | None:
    """The id of the RQ job this code runs in (None outside a job)."""
    job = get_current_job()
    return job.id if job else None
