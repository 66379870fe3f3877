"""What every long-running service shares: an RQ worker and periodic loops.

A service process (the scheduler, an agent) serves its queues, with one thread
per periodic task (heartbeats, reports, cleanup), as Cinder runs report_state
apart from its periodic tasks: a slow report never delays a heartbeat. An
agent's jobs run concurrently in a pool of long-lived worker processes, as
cinder-volume serves requests concurrently: a long delete never holds a create,
and a crash in a job (or the crash fault) kills one worker, which the pool
replaces, not the agent. The workers come from a fork server (see
:mod:`core.kernel.bootstrap`), never from the threaded service itself. The
scheduler's jobs are short, pure Python and database work: it runs them one at
a time in its own process, as cinder-scheduler does.
"""

import importlib
import logging
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from rq import Queue, SimpleWorker
from rq.worker_pool import WorkerPool
from rq.worker_pool import run_worker as run_pool_worker
from taskflow import task as taskflow_task
from taskflow.patterns import linear_flow

from core.kernel import flows
from core.kernel.models import Service
from core.kernel.procs import child_preexec
from core.kernel.queues import redis_connection

LOG = logging.getLogger(__name__)


# Forking the service itself would copy whatever lock its threads hold at that
# instant (a periodic task inside SQLite, say) into the worker, held forever.
FORK_SERVER = multiprocessing.get_context("forkserver")


class DjangoSimpleWorker(SimpleWorker):
    """Runs each job in this process, with fresh database connections as a request has.

    RQ's loop writes the worker's heartbeat five times per job and its ``idle`` state
    twice, each a Redis round trip of its own; at dozens of jobs a second that was a tenth
    of the scheduler's time. Here a heartbeat outside RQ's own pipelines is sent at most
    every ``HEARTBEAT_EVERY`` seconds (the worker's key lives ``worker_ttl`` + 60 s, 480
    by default), and a state is written only when it changes."""

    HEARTBEAT_EVERY = 5.0

    def heartbeat(self, timeout=None, pipeline=None):
        recent = self.last_heartbeat and (
            (timezone.now() - self.last_heartbeat).total_seconds() < self.HEARTBEAT_EVERY
        )
        if pipeline is None and timeout is None and recent:
            return
        super().heartbeat(timeout, pipeline)

    def set_state(self, state, pipeline=None):
        if pipeline is None and state == self._state:
            return  # already so in Redis
        super().set_state(state, pipeline)

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
        # kernel end them if their parent (the fork server, which ends with the
        # service) dies.
        child_preexec()
        super().__init__(*args, **kwargs)


class ServicePool(WorkerPool):
    """RQ's worker pool: a few long-lived processes run the jobs, concurrently, and a dead
    one (a crash fault, kill -9) is replaced within a second. No fork per job; workers
    are forked from the fork server rather than from this threaded process."""

    def get_worker_process(self, name, burst, _sleep=0, logging_level="INFO"):
        return FORK_SERVER.Process(
            target=run_pool_worker,
            args=(name, self._queue_names, self._connection_class, self._pool_class)
            + (self._pool_kwargs,),
            kwargs={
                "_sleep": _sleep,
                "burst": burst,
                "logging_level": logging_level,
                "worker_class": self.worker_class,
                "job_class": self.job_class,
                "serializer": self.serializer,
                "exception_handlers": self.exception_handlers,
            },
            name=f"Worker {name} (WorkerPool {self.name})",
        )


def start_fork_server(job_modules: tuple[str, ...]) -> None:
    """Start the fork server now, with Django and the job modules loaded once for all."""
    FORK_SERVER.set_forkserver_preload(["core.kernel.bootstrap", *job_modules])
    from multiprocessing import forkserver

    forkserver.ensure_running()


@dataclass
class Periodic:
    name: str
    interval: float
    func: Callable[[], None]


class PeriodicLoop(threading.Thread):
    """Runs one periodic task every ``interval`` seconds, until stopped.

    A failing run is logged and tried again at the next interval; stale database
    connections are closed after each run. One loop per task, so a slow task (a
    latency fault on reports) delays only itself.
    """

    def __init__(self, task: Periodic):
        super().__init__(name=f"periodic-{task.name}", daemon=True)
        self.task = task
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                self.task.func()
            except Exception:
                LOG.exception("Periodic task %s failed", self.task.name)
            close_old_connections()
            elapsed = time.monotonic() - started
            self.stopping.wait(max(self.task.interval - elapsed, 0.05))

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
    """Pay once what every job would otherwise pay: importing the modules its jobs name
    and taskflow's first engine load (stevedore plugin discovery, ~130 ms). Done in the
    scheduler, which runs its jobs itself, and in the agents' fork server, whose
    workers start as copies of it."""
    for module in job_modules:
        importlib.import_module(module)
    flows.load(linear_flow.Flow("warm-up").add(_WarmUpTask()), {}).run()


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
    if workers:
        start_fork_server(job_modules)  # before any thread of ours exists
    else:
        warm_up(job_modules)
    connection = redis_connection()
    loops = [PeriodicLoop(task) for task in periodic]
    for loop in loops:
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
        for loop in loops:
            loop.stop()
        for loop in loops:
            loop.join(timeout=5)
