"""What every long-running service shares: an RQ worker and periodic loops.

A service process (the scheduler, an agent) serves its queues, with a thread
running its periodic tasks (heartbeats, reports, cleanup). An agent's jobs run
concurrently in a pool of long-lived worker processes, as cinder-volume serves
requests concurrently: a long delete never holds a create, and a crash in a job
(or the crash fault) kills one worker, which the pool replaces, not the agent.
The scheduler's jobs are short, pure Python and database work: it runs them one
at a time in its own process, as cinder-scheduler does.
"""

import importlib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import psutil
import taskflow.engines
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from rq import Queue, SimpleWorker
from rq.worker_pool import WorkerPool
from taskflow import task as taskflow_task
from taskflow.patterns import linear_flow

from core.kernel.models import Service
from core.kernel.procs import child_preexec
from core.kernel.queues import redis_connection

LOG = logging.getLogger(__name__)


# Held by the periodic thread while it works and by the pool while it forks: a
# fork taken while another thread is inside SQLite (or any lock) copies that lock
# held into the new worker, which then hangs forever on its first query.
FORK_LOCK = threading.Lock()


class DjangoSimpleWorker(SimpleWorker):
    """Runs each job in this process, with fresh database connections as a request has."""

    def perform_job(self, job, queue):
        close_old_connections()
        try:
            return super().perform_job(job, queue)
        finally:
            close_old_connections()


class PoolWorker(DjangoSimpleWorker):
    """One of a service's long-lived worker processes (see :class:`ServicePool`)."""

    def __init__(self, *args, **kwargs):
        # RQ's pool puts nothing between its workers and a dead service: have the
        # kernel end them if the service process dies.
        child_preexec()
        super().__init__(*args, **kwargs)


class ServicePool(WorkerPool):
    """RQ's worker pool: a few long-lived processes run the jobs, concurrently, and a dead
    one (a crash fault, kill -9) is replaced within a second. No fork per job."""

    def start_worker(self, *args, **kwargs):
        # A fork taken while the periodic thread is inside the database would copy its
        # lock held; and the child must not share this process's connection.
        with FORK_LOCK:
            connections.close_all()
            return super().start_worker(*args, **kwargs)


@dataclass
class Periodic:
    name: str
    interval: float
    func: Callable[[], None]
    last: float = float("-inf")


class PeriodicLoop(threading.Thread):
    """Runs each periodic task when due, until stopped.

    1. Wake every half second (or at the next task due, if sooner).
    2. Run each task whose interval has passed, holding FORK_LOCK (see above); a
       failing task is logged and tried again at its next interval.
    3. Close stale database connections after each round.
    """

    def __init__(self, tasks: list[Periodic]):
        super().__init__(name="periodic", daemon=True)
        self.tasks = tasks
        self.stopping = threading.Event()

    def run(self) -> None:
        import time

        while not self.stopping.is_set():
            now = time.monotonic()
            for task in self.tasks:
                if now - task.last >= task.interval:
                    task.last = now
                    try:
                        with FORK_LOCK:
                            task.func()
                    except Exception:
                        LOG.exception("Periodic task %s failed", task.name)
            with FORK_LOCK:
                close_old_connections()
            self.stopping.wait(0.5)

    def stop(self) -> None:
        self.stopping.set()


def host_stats() -> dict:
    """The host's CPU, memory and data-directory disk, for the pools page."""
    disk = psutil.disk_usage(str(settings.VAR_DIR))
    memory = psutil.virtual_memory()
    return {
        "hostname": socket.gethostname(),
        "cpu_percent": psutil.cpu_percent(interval=None),
        "cpu_count": psutil.cpu_count(),
        "load_avg": list(psutil.getloadavg()),
        "memory_percent": memory.percent,
        "memory_total_gb": round(memory.total / 2**30, 1),
        "disk_percent": disk.percent,
        "disk_free_gb": round(disk.free / 2**30, 1),
    }


def heartbeat(binary: str, host: str, stats: dict | None = None) -> None:
    values = {"heartbeat_at": timezone.now()}
    if stats is not None:
        values["host_stats"] = stats
    Service.objects.filter(binary=binary, host=host).update(**values)


class _WarmUpTask(taskflow_task.Task):
    def execute(self) -> None:
        return None


def warm_up(job_modules: tuple[str, ...]) -> None:
    """Pay once, in the parent, what every forked work horse would otherwise pay.

    A horse starts from a copy of the parent; if the modules its jobs name and
    taskflow's first engine load (stevedore plugin discovery, ~130 ms) are
    already in the parent, each job starts warm instead of importing them again.
    """
    for module in job_modules:
        importlib.import_module(module)
    taskflow.engines.run(linear_flow.Flow("warm-up").add(_WarmUpTask()))


def run_worker(
    queue_names: list[str],
    periodic: list[Periodic],
    name: str,
    job_modules: tuple[str, ...],
    workers: int = 0,
) -> None:
    """Serve the queues until SIGINT/SIGTERM (RQ's warm shutdown), with the loops running.

    ``job_modules``: the modules whose functions this service's jobs name (``agent.manager``).
    ``workers``: run jobs in this many long-lived worker processes (agents), or, with 0,
    one at a time in this process (the scheduler, whose jobs are short).
    """
    warm_up(job_modules)
    connection = redis_connection()
    loop = PeriodicLoop(periodic)
    loop.start()
    try:
        if workers:
            pool = ServicePool(
                queue_names, connection=connection, num_workers=workers, worker_class=PoolWorker
            )
            pool.start(logging_level=settings.RQ_LOG_LEVEL)
        else:
            queues = [Queue(q, connection=connection) for q in queue_names]
            worker = DjangoSimpleWorker(
                queues,
                connection=connection,
                name=f"{name}.{socket.gethostname()}.{psutil.Process().pid}",
            )
            worker.work(logging_level=settings.RQ_LOG_LEVEL, with_scheduler=False)
    finally:
        loop.stop()
        loop.join(timeout=5)
