"""``manage.py run``: the whole demo cloud in the foreground (what ``make run`` starts)."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from portal import launcher
from portal.processes import agent_commands


class Command(BaseCommand):
    help = "Start Redis (if REDIS_URL is unset), daphne, the scheduler and the demo agents."

    def handle(self, *args, **options):
        sys.exit(
            launcher.main(
                settings.BASE_DIR,
                settings.VAR_DIR,
                agent_commands(),
                web_workers=settings.OSAPI_VOLUME_WORKERS,
            )
        )
