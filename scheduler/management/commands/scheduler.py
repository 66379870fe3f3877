"""``manage.py scheduler``: cinder-scheduler, serving the ``scheduler`` queue."""

import socket

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from core.cinder import cleanable, quota
from core.kernel.models import Service
from core.kernel.queues import SCHEDULER_QUEUE
from core.kernel.runtime import Periodic, heartbeat, host_stats, run_worker


class Command(BaseCommand):
    help = "Run cinder-scheduler: the scheduler queue's worker plus its periodic tasks."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=socket.gethostname())

    def handle(self, *args, host: str, **options):
        Service.objects.update_or_create(
            binary="cinder-scheduler", host=host, defaults={"heartbeat_at": timezone.now()}
        )
        periodic = [
            Periodic(
                "heartbeat",
                settings.REPORT_INTERVAL,
                lambda: heartbeat("cinder-scheduler", host, host_stats()),
            ),
            Periodic(
                "clean_expired_reservations", settings.RESERVATION_CLEAN_INTERVAL, quota.expire
            ),
            # The safety net for work nobody will finish (cinder/objects/cleanable.py's
            # role, run where Cinder's work_cleanup runs): lost casts, dead jobs, dead hosts.
            Periodic("clean_lost_work", settings.REPORT_INTERVAL, cleanable.sweep),
        ]
        self.stdout.write(f"cinder-scheduler on {host}: serving queue '{SCHEDULER_QUEUE}'")
        # Jobs run in this process, so the PoolState cache stays warm between them.
        run_worker([SCHEDULER_QUEUE], periodic, "scheduler", ("scheduler.manager",))
