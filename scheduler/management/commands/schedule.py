"""``manage.py schedule --fleet FILE --size N``: one scheduling decision over a fleet file."""

import json

from django.core.management.base import BaseCommand, CommandError

from scheduler import driver, fleet_file
from scheduler.decision import decide
from scheduler.state import Request


def positive_size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise CommandError(
            f"--size must be a whole number of GiB, not {text!r}", returncode=2
        ) from None
    if size < 1:
        raise CommandError(f"--size must be at least 1 GiB, not {size}", returncode=2)
    return size


class Command(BaseCommand):
    help = (
        "Decide where a volume would go over a fleet file (get_pools?detail=True output), "
        "with this deployment's filters and weighers. Nothing is created."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fleet", required=True, help="get_pools?detail=True JSON file")
        parser.add_argument("--size", required=True, help="volume size in GiB")
        parser.add_argument("--extra-specs", default=None, help="volume type extra specs, JSON")
        parser.add_argument("--availability-zone", default=None)
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **opts):
        size = positive_size(opts["size"])
        try:
            data = fleet_file.read(opts["fleet"])
            specs = fleet_file.parse_extra_specs(opts["extra_specs"])
        except fleet_file.FleetError as exc:
            raise CommandError(str(exc), returncode=2) from None
        req = Request(size=size, extra_specs=specs, availability_zone=opts["availability_zone"])
        decision = decide(fleet_file.pool_states(data), req, driver.options())
        if opts["json"]:
            self.stdout.write(json.dumps(as_json(decision)))
        else:
            self.stdout.write(as_text(decision, len(data["pools"])))


def as_json(decision) -> dict:
    """Exactly the documented shape: filters, weighed (best first), chosen, elapsed_ms."""
    return {
        "filters": [
            {"name": s.name, "passed": list(s.passed), "failed": dict(s.failed)}
            for s in decision.filters
        ],
        "weighed": [{"name": w.name, "weight": w.weight} for w in decision.weighed],
        "chosen": decision.chosen,
        "elapsed_ms": decision.elapsed_ms,
    }


def as_text(decision, fleet_size: int, top: int = 10) -> str:
    lines = [f"{fleet_size} pools"]
    for step in decision.filters:
        lines.append(f"  {step.name}: {len(step.passed)} passed, {len(step.failed)} failed")
        for pool, reason in list(step.failed.items())[:5]:
            lines.append(f"    ✗ {pool}: {reason}")
        if len(step.failed) > 5:
            lines.append(f"    … and {len(step.failed) - 5} more")
    if decision.weighed:
        lines.append(f"weighed {len(decision.weighed)}, best first:")
        for item in decision.weighed[:top]:
            lines.append(f"  {item.weight:10.4f}  {item.name}")
    lines.append(f"chosen: {decision.chosen or 'none'}")
    if decision.reason:
        lines.append(decision.reason)
    lines.append(f"decision took {decision.elapsed_ms:.3f} ms")
    return "\n".join(lines)
