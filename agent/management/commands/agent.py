"""``manage.py agent --host HOST --backend NAME [--backend NAME ...]``: cinder-volume."""

from django.core.management.base import BaseCommand, CommandError

from agent.models import BackendConfig
from agent.service import Agent


class Command(BaseCommand):
    help = "Run the volume service for one storage host, serving each backend's own queue."

    def add_arguments(self, parser):
        parser.add_argument("--host", required=True)
        parser.add_argument("--backend", action="append", required=True, dest="backends")

    def handle(self, *args, host: str, backends: list[str], **options):
        configs = list(BackendConfig.objects.filter(host=host, backend_name__in=backends))
        missing = sorted(set(backends) - {c.backend_name for c in configs})
        if missing:
            raise CommandError(f"No configuration for backend(s) {missing} on host {host}")
        agent = Agent(configs)
        cleaned = agent.init_host()
        for service_host, count in cleaned.items():
            self.stdout.write(f"{service_host}: init_host cleaned {count} volume(s)")
        self.stdout.write(f"agent {host}: serving {', '.join(sorted(agent.drivers))}")
        agent.serve()
