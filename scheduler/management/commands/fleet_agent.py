"""``manage.py fleet_agent``: one process that plays the agent of every simulated backend."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.models import Service
from portal.queues import volume_queue_name
from portal.services import Periodic, host_stats, run_worker
from scheduler import fleet, host_manager


def heartbeat(hosts: list[str]) -> None:
    """Every simulated backend's heartbeat, in one statement per 500."""
    values = {"heartbeat_at": timezone.now(), "host_stats": host_stats()}
    for start in range(0, len(hosts), 500):
        Service.objects.filter(binary="cinder-volume", host__in=hosts[start : start + 500]).update(
            **values
        )


def report() -> None:
    host_manager.store_pool_reports(fleet.reports(), timezone.now())


class Command(BaseCommand):
    help = (
        "Keep the simulated fleet (manage.py load_fleet) up: heartbeat its services every "
        "report_interval, re-report its pools every backend_stats_polling_interval, and serve "
        "its backends' queues with the real manager flow on simulated volume groups."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default=fleet.FLEET_AGENT_HOST, help="a name for this process"
        )

    def handle(self, *args, host: str, **options):
        """1. Read the fleet's backends (a fleet loaded later needs a restart).
        2. Heartbeat and report at once, then on the agents' intervals.
        3. Serve every fleet backend's queue until SIGTERM.
        """
        hosts = fleet.hosts()
        if not hosts:
            self.stdout.write("No simulated fleet is loaded (manage.py load_fleet FILE).")
            return
        heartbeat(hosts)
        report()
        periodic = [
            Periodic("heartbeat", settings.REPORT_INTERVAL, lambda: heartbeat(hosts)),
            Periodic("report_capabilities", settings.BACKEND_STATS_POLLING_INTERVAL, report),
        ]
        self.stdout.write(f"fleet agent {host}: {len(hosts)} simulated backends")
        run_worker([volume_queue_name(h) for h in hosts], periodic, name=f"fleet.{host}")
