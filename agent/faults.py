"""Applies the faults a user has turned on, at the start of an operation."""

import logging
import os
import random
import signal
import time

from django.db.models import F

from agent.models import BackendConfig, Fault
from core.cinder.exceptions import CinderError
from core.kernel import events, plain_sql, recorder
from core.kernel.hosts import backend_parts

LOG = logging.getLogger(__name__)


class FaultInjected(CinderError):
    message = "Injected fault on %(backend)s: %(operation)s failed (%(how)s)"


def apply(service_host: str, operation: str, volume_id=None) -> None:
    """Delay, crash or fail as the active faults for this backend and operation say
    (a fault scoped to a volume hits only that volume)."""
    host, backend = backend_parts(service_host)
    config = plain_sql.by_key(BackendConfig, {"host": host, "backend_name": backend})
    if config is None:
        return
    # Reads by equal columns (every operation of every job asks, and almost always finds none).
    active = plain_sql.rows(Fault, {"backend": config.pk, "operation": operation, "active": True})
    volume = str(volume_id) if volume_id else None
    hitting = [f for f in active if f.volume_id is None or str(f.volume_id) == volume]
    for fault in sorted(hitting, key=lambda f: f.pk):  # as Fault's ordering
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)  # the fault *is* a delay
        if fault.crash:
            Fault.objects.filter(id=fault.id).update(hits=F("hits") + 1, active=False)
            LOG.error("Fault: crashing the worker process during %s on %s", operation, service_host)
            recorder.write_pending()  # the page shows the task it died in
            events.flush()  # watchers see the task running when it dies
            os.kill(os.getpid(), signal.SIGKILL)
        if fault.fail_next and _take_one(fault):
            raise FaultInjected(
                backend=service_host, operation=operation, how=f"fail next {fault.fail_next}"
            )
        if fault.probability and random.random() < fault.probability:
            Fault.objects.filter(id=fault.id).update(hits=F("hits") + 1)
            raise FaultInjected(
                backend=service_host, operation=operation, how=f"probability {fault.probability:g}"
            )


def _take_one(fault: Fault) -> bool:
    """Decrement ``fail_next`` by compare-and-swap, so N means exactly N failures."""
    return (
        Fault.objects.filter(id=fault.id, fail_next__gt=0).update(
            fail_next=F("fail_next") - 1, hits=F("hits") + 1
        )
        == 1
    )
