"""``manage.py fleet_agent``: one process that plays the agent of every simulated backend."""

from django.conf import settings
from django.core.management.base import BaseCommand

from agent import fleet
from agent.service import JOB_MODULES
from core.kernel.queues import volume_queue_name
from core.kernel.runtime import Periodic, run_worker


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
        fleet.heartbeat(hosts)
        fleet.report()
        periodic = [
            Periodic("heartbeat", settings.REPORT_INTERVAL, lambda: fleet.heartbeat(hosts)),
            Periodic("report_capabilities", settings.BACKEND_STATS_POLLING_INTERVAL, fleet.report),
        ]
        self.stdout.write(f"fleet agent {host}: {len(hosts)} simulated backends")
        queues = [volume_queue_name(h) for h in hosts]
        run_worker(queues, periodic, f"fleet.{host}", JOB_MODULES, workers=settings.AGENT_WORKERS)
