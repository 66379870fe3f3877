"""``manage.py load_fleet FILE``: register a simulated fleet of pools (``--unload`` removes it)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import fleet
from scheduler import fleet_file


class Command(BaseCommand):
    help = (
        "Register the pools of a get_pools?detail=True JSON file as simulated backends that "
        "stay up while `manage.py fleet_agent` runs (`make run` starts it once a fleet is "
        "loaded). Loading a file again replaces its pools."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="get_pools?detail=True JSON file")
        parser.add_argument(
            "--unload", action="store_true", help="remove every simulated pool instead"
        )
        parser.add_argument(
            "--synthetic",
            type=int,
            metavar="N",
            help="no file: generate N pools to play with (and --write FILE to keep them)",
        )
        parser.add_argument("--write", metavar="FILE", help="with --synthetic: save the fleet")

    def handle(self, *args, file: str | None, unload: bool, synthetic: int | None, **options):
        if unload:
            count = fleet.unregister()
            self.stdout.write(f"Removed {count} simulated pools.")
            return
        if synthetic is not None:
            if file or not 1 <= synthetic <= 20_000:
                raise CommandError("--synthetic N takes 1 to 20000 pools, no FILE", returncode=2)
            data = fleet_file.synthetic(synthetic)
        elif not file:
            raise CommandError("give a fleet file (or --synthetic N, or --unload)", returncode=2)
        try:
            data = data if synthetic is not None else fleet_file.read(file)
            pools, backends = fleet.register(data)
        except fleet_file.FleetError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if synthetic is not None and options["write"]:
            Path(options["write"]).write_text(json.dumps(data, indent=1))
        self.stdout.write(
            f"Registered {pools} simulated pools on {backends} backends. They stay up while "
            "`python manage.py fleet_agent` runs; `make run` starts it. Restart it after "
            "loading more."
        )
