"""The state of every part a create needs: database, Redis, scheduler, agents, processes.

A service counts as up while its heartbeats arrive within its heartbeat window (two
``report_interval`` and some slack), so a killed service shows as down within seconds,
not after ``service_down_time``. Under ``make run`` every supervised process is listed
too, with its state and how often it was restarted.
"""

import logging

from django.conf import settings
from django.db import connection
from django.utils import timezone

from agent.models import BackendConfig
from core.kernel.models import Service
from core.kernel.queues import redis_connection
from portal import supervision

LOG = logging.getLogger(__name__)


def check() -> tuple[bool, dict]:
    now = timezone.now()
    report: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as error:  # the reason goes to the log, not to anonymous callers
        LOG.warning("Health: database unreachable: %s", error)
        report["database"] = {"ok": False, "error": type(error).__name__}
    try:
        redis_connection().ping()
        report["redis"] = {"ok": True}
    except Exception as error:
        LOG.warning("Health: Redis unreachable: %s", error)
        report["redis"] = {"ok": False, "error": type(error).__name__}
    if not report["database"]["ok"]:
        return False, report

    def service_state(service: Service) -> dict:
        age = service.heartbeat_age(now)
        return {
            "ok": service.is_alive(now),
            "heartbeat_age_s": None if age is None else round(age, 1),
            "disabled": service.disabled,
        }

    schedulers = Service.objects.filter(binary="cinder-scheduler")
    report["scheduler"] = {
        "ok": any(s.is_alive(now) for s in schedulers),
        "services": {s.host: service_state(s) for s in schedulers},
    }
    services = {s.host: s for s in Service.objects.filter(binary="cinder-volume")}
    agents = {}
    for config in BackendConfig.objects.filter(enabled=True):
        service = services.get(config.service_host)
        agents[config.service_host] = (
            service_state(service) if service else {"ok": False, "heartbeat_age_s": None}
        )
    report["agents"] = agents
    processes = supervision.processes(settings.VAR_DIR)
    if processes is not None:
        report["processes"] = {p.pop("name"): p for p in processes}
    healthy = (
        report["database"]["ok"]
        and report["redis"]["ok"]
        and report["scheduler"]["ok"]
        and bool(agents)
        and all(a["ok"] for a in agents.values())
        and all(p["ok"] for p in report.get("processes", {}).values())
    )
    return healthy, report
