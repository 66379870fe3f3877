"""Which service processes ``make run`` starts: one agent per configured storage host,
plus the fleet agent when a simulated fleet is loaded (the scheduler always runs)."""

from django.conf import settings

from agent.fleet import FLEET_AGENT_HOST
from agent.models import BackendConfig, FleetPool


def agent_commands() -> list[list[str]]:
    """One ``manage.py agent`` command line per configured host, plus the fleet agent if any."""
    hosts: dict[str, list[str]] = {}
    configs = BackendConfig.objects.filter(enabled=True)
    if settings.AGENT_HOSTS:  # the storage hosts this machine runs (others run their own)
        configs = configs.filter(host__in=settings.AGENT_HOSTS)
    for config in configs:
        hosts.setdefault(config.host, []).append(config.backend_name)
    commands = [
        ["agent", "--host", host, *[arg for b in backends for arg in ("--backend", b)]]
        for host, backends in hosts.items()
    ]
    if FleetPool.objects.exists():
        commands.append(["fleet_agent", "--host", FLEET_AGENT_HOST])
    return commands
