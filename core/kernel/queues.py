"""RQ queues for the casts and calls between services.

Queues are made by name (a backend's queue ``volume.<host>@<backend>`` is not
known in advance) and honour django-rq's ``on_db_commit`` mode: a cast made
inside a transaction is enqueued only when that transaction commits. A *call*
(oslo.messaging's, which Cinder uses for attach and detach) enqueues at once and
waits for the job's answer.
"""

import time
import uuid
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.db import connection
from django_rq.queues import DjangoRQ
from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.results import Result

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


def started_at(job_id: str):
    """When a worker took the job (an aware datetime), or None if none has or it is gone."""
    try:
        return Job.fetch(job_id, connection=redis_connection()).started_at
    except NoSuchJobError:
        return None


def waiting(queue_name: str, job_id: str) -> bool:
    """True if the job is in its queue, waiting for a worker (LPOS, cheap on long queues)."""
    return Queue(queue_name, connection=redis_connection()).get_job_position(job_id) is not None


def current_job_id() -> str | None:
    """The id of the RQ job this code runs in (None outside a job)."""
    job = get_current_job()
    return job.id if job else None


class CallTimedOut(Exception):
    """No answer in time, or the job's work was ended without one (MessagingTimeout)."""


class RemoteError(Exception):
    """The called job failed: ``exc_type`` names its exception's class, ``value`` says it."""

    def __init__(self, exc_type: str, value: str) -> None:
        super().__init__(f"{exc_type}: {value}")
        self.exc_type = exc_type
        self.value = value


def call(
    queue_name: str,
    func: str,
    *,
    timeout: float | None = None,
    job_id: str | None = None,
    alive: Callable[[], bool] | None = None,
    **kwargs,
):
    """Run ``func(**kwargs)`` on the queue's worker and return what it returns.

    Waits up to ``timeout`` seconds (``RPC_RESPONSE_TIMEOUT``), checking ``alive`` (is the
    work still under way?) every second, so a job whose process died answers at once.
    A job still queued when the wait ends is canceled: it never runs after its caller gave
    up. Raises :class:`CallTimedOut` or :class:`RemoteError`. Never inside a transaction:
    the job could not see the caller's rows and the caller would hold its locks meanwhile.
    """
    if connection.in_atomic_block:
        raise RuntimeError(f"call {func} made inside a transaction")
    timeout = settings.RPC_RESPONSE_TIMEOUT if timeout is None else timeout
    job = get_queue(queue_name).original_enqueue_call(
        func,
        kwargs=kwargs,
        timeout=max(int(timeout), 1),
        result_ttl=600,
        failure_ttl=7 * 86400,
        job_id=job_id or uuid.uuid4().hex,
    )
    deadline = time.monotonic() + timeout
    result = None
    while result is None and time.monotonic() < deadline:
        result = job.latest_result(timeout=1)
        if result is None and alive is not None and not alive():
            result = job.latest_result(timeout=1)  # it may have just answered
            break
    if result is None:
        if job.get_status(refresh=True) == "queued":
            job.cancel()
        raise CallTimedOut(f"{func} on {queue_name} did not answer (job {job.id})")
    if result.type == Result.Type.SUCCESSFUL:
        return result.return_value
    raise RemoteError(*_failure(job, result))


def _failure(job: Job, result: Result) -> tuple[str, str]:
    """The failed job's exception: from its meta (see :func:`reply_error`), else the last
    line of its traceback."""
    job.refresh()
    error = job.meta.get("error")
    if error:
        return error["type"], error["value"]
    last = (result.exc_string or "").strip().splitlines()[-1:] or ["Exception: failed"]
    exc_type, _, value = last[0].partition(": ")
    return exc_type.rpartition(".")[2], value


def reply_error(error: Exception) -> None:
    """Inside a called job: keep the exception's class and words for the caller."""
    job = get_current_job()
    if job is not None:
        job.meta["error"] = {"type": type(error).__name__, "value": str(error)}
        job.save_meta()
