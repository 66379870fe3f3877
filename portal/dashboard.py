"""The dashboard's picture: volumes, pools and services, for a user's projects."""

from django.utils import timezone

from portal.access import projects_of
from portal.models import Service
from scheduler.models import Pool
from volumes.models import Volume
from volumes.presenters import volume_table


def dashboard_context(user) -> dict:
    volumes = Volume.objects.select_related("volume_type", "project")
    if not user.is_superuser:
        volumes = volumes.filter(project__in=projects_of(user))
    now = timezone.now()
    services = list(Service.objects.all())
    for service in services:
        service.up = service.is_up(now)
        service.age = service.heartbeat_age(now)
    pools = list(Pool.objects.all())
    for pool in pools:
        caps = pool.capabilities
        total = float(caps.get("total_capacity_gb") or 0) or 1.0
        free = float(caps.get("free_capacity_gb") or 0)
        pool.used_percent = round(100 * (total - free) / total, 1)
    return {
        "volumes": volume_table(volumes[:50]),
        "services": services,
        "pools": pools,
    }
