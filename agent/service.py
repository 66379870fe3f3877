"""The agent: one process per storage host, serving each backend's queue.

Start-up follows Cinder's ``init_host``:
1. Check each backend's driver (the volume group exists, the thin pool too).
2. Register (or refresh) each backend's service row.
3. Clean up this host's own in-flight work, each volume claimed by
   compare-and-swap so two cleaners never collide: ``creating``/``downloading``
   volumes (and ``creating`` snapshots) become ``error``; ``deleting`` ones
   are resumed (cast again onto this backend's queue).
4. Report capabilities at once, then heartbeat every ``report_interval`` and
   report every ``backend_stats_polling_interval``.
"""

import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from agent import rpcapi as volume_rpcapi
from agent.drivers import driver_for
from agent.models import BackendConfig
from agent.reports import publish_capabilities
from core.cinder.models import Snapshot, Volume
from core.kernel.models import Service
from core.kernel.queues import volume_queue_name
from core.kernel.runtime import Periodic, heartbeat, host_stats, run_worker

LOG = logging.getLogger(__name__)
CLEANABLE_TO_ERROR = ("creating", "downloading")
RESUMABLE_DELETES = ("deleting", "error_managing_deleting")
# The module whose functions this service's RQ jobs name (warmed before serving).
JOB_MODULES = ("agent.manager",)


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
    def cleanup(host: str, started=None) -> int:
        """In-flight creates cannot be resumed (``error``); deletes can, and are.

        A delete is claimed by touching its row only if nobody touched it since this
        cleaner started (``started``): of two cleaners starting together, one resumes it.
        """
        started = started or timezone.now()
        ours = Q(host=host) | Q(host__startswith=f"{host}#")
        context = {"user_id": None, "project_id": None, "is_admin": True}
        count = 0
        for volume in Volume.objects.filter(ours, status__in=CLEANABLE_TO_ERROR):
            if Volume.conditional_update(volume.id, {"status": volume.status}, status="error"):
                LOG.warning("init_host: volume %s was %s; now error", volume.id, volume.status)
                count += 1
        for volume in Volume.objects.filter(ours, status__in=RESUMABLE_DELETES):
            if Volume.conditional_update(
                volume.id, {"status": volume.status, "updated_at__lt": started}
            ):
                LOG.warning("init_host: resuming the delete of volume %s", volume.id)
                context["project_id"] = volume.project_id
                volume_rpcapi.delete_volume(dict(context), volume.host, str(volume.id), True)
                count += 1
        for snapshot in Snapshot.objects.filter(
            Q(volume__host=host) | Q(volume__host__startswith=f"{host}#"), status="creating"
        ):
            if Snapshot.conditional_update(snapshot.id, {"status": "creating"}, status="error"):
                LOG.warning("init_host: snapshot %s was creating; now error", snapshot.id)
                count += 1
        return count

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
        ]
        queues = [volume_queue_name(host) for host in self.drivers]
        run_worker(queues, periodic, f"agent.{self.configs[0].host}", JOB_MODULES)
