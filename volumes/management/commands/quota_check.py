"""``manage.py quota_check [--project ID] [--sync]``: cinder-manage quota check / sync.

Compares each saved usage with the volumes (and snapshots) that exist and the
reservations still alive, prints every difference in Cinder's words, and exits
1 when anything is out of sync (Cinder's own check always exits 0, a bug).
``--sync`` repairs the rows in the same write transaction and exits 0.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from core.cinder import quota
from core.cinder.models import Project


class Command(BaseCommand):
    help = "Check quota usage against the real volumes and reservations; --sync repairs it."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="only this project (id); default: all projects")
        parser.add_argument("--sync", action="store_true", help="repair what is out of sync")

    def handle(self, *args, project: str | None, sync: bool, **options):
        if project is not None and not Project.objects.filter(pk=project).exists():
            raise CommandError(f"Project {project} does not exist.")
        found = quota.check(project, sync=sync)
        current = None
        for discrepancy in found:
            if discrepancy.project_id != current:
                current = discrepancy.project_id
                self.stdout.write(f"Project {current}:")
            self.stdout.write(discrepancy.describe(fixed=sync))
        if not found:
            self.stdout.write("Quota usage is in sync.")
        elif not sync:
            sys.exit(1)
