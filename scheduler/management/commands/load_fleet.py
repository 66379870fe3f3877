"""``manage.py load_fleet FILE``: register a simulated fleet of pools (``--unload`` removes it)."""

from django.core.management.base import BaseCommand, CommandError

from scheduler import fleet


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

    def handle(self, *args, file: str | None, unload: bool, **options):
        if unload:
            count = fleet.unregister()
            self.stdout.write(f"Removed {count} simulated pools.")
            return
        if not file:
            raise CommandError("give a fleet file (or --unload)", returncode=2)
        try:
            pools, backends = fleet.register(fleet.read(file))
        except fleet.FleetError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(
            f"Registered {pools} simulated pools on {backends} backends. They stay up while "
            "`python manage.py fleet_agent` runs; `make run` starts it. Restart it after "
            "loading more."
        )
