"""The agent: one process per storage host, serving each backend's queue.

Start-up follows Cinder's ``init_host``:
1. Check each backend's driver (the volume group exists, the thin pool too).
2. Register (or refresh) each backend's service row.
3. Clean up this host's own in-flight work: ``creating``/``downloading``
   volumes become ``error``, each claimed by compare-and-swap so two
   cleaners never collide.
4. Report capabilities at once, then heartbeat every ``report_interval`` and
   report every ``backend_stats_polling_interval``.
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from agent import faults
from agent.drivers import driver_for
from agent.models import BackendConfig
from portal.models import Service
from portal.queues import volume_queue_name
from portal.services import Periodic, heartbeat, host_stats, run_worker
from scheduler import rpcapi as scheduler_rpcapi
from volumes.models import Volume

LOG = logging.getLogger(__name__)
CLEANABLE_TO_ERROR = ("creating", "downloading")


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
        """In-flight creates on this backend cannot be resumed: they become ``error``."""
        ours = Q(host=host) | Q(host__startswith=f"{host}#")
        count = 0
        for volume in Volume.objects.filter(ours, status__in=CLEANABLE_TO_ERROR):
            if Volume.conditional_update(volume.id, {"status": volume.status}, status="error"):
                LOG.warning("init_host: volume %s was %s; now error", volume.id, volume.status)
                count += 1
        return count

    def heartbeat(self) -> None:
        stats = host_stats()
        for host in self.drivers:
            heartbeat("cinder-volume", host, stats)

    def report_capabilities(self) -> None:
        for host, driver in self.drivers.items():
            try:
                faults.apply(host, "report")
                stats = driver.get_volume_stats(refresh=True)
            except Exception as error:
                LOG.warning("Could not report the capabilities of %s: %s", host, error)
                continue
            stamp = datetime.now(UTC).isoformat()
            scheduler_rpcapi.update_service_capabilities(host, stats, stamp)

    def serve(self) -> None:
        periodic = [
            Periodic("heartbeat", settings.REPORT_INTERVAL, self.heartbeat),
            Periodic(
                "report_capabilities",
                settings.BACKEND_STATS_POLLING_INTERVAL,
                self.report_capabilities,
            ),
        ]
        queues = [volume_queue_name(host) for host in self.drivers]
        run_worker(queues, periodic, name=f"agent.{self.configs[0].host}")


def agent_commands() -> list[list[str]]:
    """One ``manage.py agent`` command line per configured host."""
    hosts: dict[str, list[str]] = {}
    for config in BackendConfig.objects.filter(enabled=True):
        hosts.setdefault(config.host, []).append(config.backend_name)
    return [
        ["agent", "--host", host, *[arg for b in backends for arg in ("--backend", b)]]
        for host, backends in hosts.items()
    ]
