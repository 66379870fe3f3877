"""The agent: one process per storage host, serving each backend's own queue.

Start-up follows Cinder's ``init_host``:
1. Check each backend's driver (the volume group exists, the thin pool too).
2. Register (or refresh) each backend's service row.
3. Clean up the work a dead process of ours left half-done (its ``workers`` rows, see
   :mod:`core.cinder.cleanable`): a create becomes ``error`` with a user message, a delete
   is resumed. Work still queued is left to its job.
4. Report capabilities at once, then heartbeat every ``report_interval``, report every
   ``backend_stats_polling_interval``, and clean up after a worker process that died.

The jobs run in a pool of ``AGENT_WORKERS`` long-lived processes, concurrently.
"""

import logging

from django.conf import settings
from django.utils import timezone

from agent.drivers import driver_for
from agent.models import BackendConfig
from agent.reports import publish_capabilities
from core.cinder import cleanable
from core.cinder.models import Worker
from core.kernel.models import Service
from core.kernel.queues import volume_queue_name
from core.kernel.runtime import Periodic, heartbeat, host_stats, run_worker

LOG = logging.getLogger(__name__)
# The module whose functions this service's RQ jobs name (warmed before serving).
JOB_MODULES = ("agent.manager", "agent.attach_manager")


class Agent:
    def __init__(self, configs: list[BackendConfig]):
        self.configs = configs
        self.drivers = {c.service_host: driver_for(c) for c in configs}

    def init_host(self) -> dict[str, int]:
        cleaned = {}
        for config in self.configs:
            host = config.service_host
            self.drivers[host].check_for_setup_error()
            Service.objects.update_or_create(
                binary="cinder-volume",
                host=host,
                defaults={
                    "availability_zone": config.availability_zone,
                    "heartbeat_at": timezone.now(),
                    "host_stats": host_stats(),
                },
            )
            cleaned[host] = self.cleanup(host)
        return cleaned

    @staticmethod
    def cleanup(host: str) -> int:
        """Clean the backend's work whose process died; returns how many were cleaned."""
        done = cleanable.clean_dead_owners(Worker.objects.filter(service=host))
        return sum(n for outcome, n in done.items() if outcome != "moved on")

    def clean_dead_workers(self) -> None:
        for host in self.drivers:
            self.cleanup(host)

    def heartbeat(self) -> None:
        stats = host_stats()
        for host in self.drivers:
            heartbeat("cinder-volume", host, stats)

    def report_capabilities(self) -> None:
        for host, driver in self.drivers.items():
            publish_capabilities(host, driver)

    def serve(self) -> None:
        periodic = [
            Periodic("heartbeat", settings.REPORT_INTERVAL, self.heartbeat),
            Periodic(
                "report_capabilities",
                settings.BACKEND_STATS_POLLING_INTERVAL,
                self.report_capabilities,
            ),
            Periodic("clean_dead_workers", settings.REPORT_INTERVAL, self.clean_dead_workers),
        ]
        queues = [volume_queue_name(host) for host in self.drivers]
        run_worker(
            queues,
            periodic,
            f"agent.{self.configs[0].host}",
            JOB_MODULES,
            workers=settings.AGENT_WORKERS,
        )
