"""The state of every part a create needs: database, Redis, scheduler, agents."""

from django.db import connection
from django.utils import timezone
from rq import Worker

from core.kernel.models import Service
from core.kernel.queues import SCHEDULER_QUEUE, get_queue, redis_connection


def check() -> tuple[bool, dict]:
    now = timezone.now()
    report: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as error:
        report["database"] = {"ok": False, "error": str(error)}
    try:
        redis_connection().ping()
        workers = Worker.all(queue=get_queue(SCHEDULER_QUEUE))
        report["redis"] = {"ok": True}
    except Exception as error:
        report["redis"] = {"ok": False, "error": str(error)}
        workers = []
    if not report["database"]["ok"]:
        return False, report

    def service_state(service: Service) -> dict:
        age = service.heartbeat_age(now)
        return {
            "ok": service.is_up(now),
            "heartbeat_age_s": None if age is None else round(age, 1),
            "disabled": service.disabled,
        }

    from agent.models import BackendConfig

    schedulers = Service.objects.filter(binary="cinder-scheduler")
    scheduler_up = any(s.is_up(now) for s in schedulers)
    report["scheduler"] = {
        "ok": scheduler_up and bool(workers),
        "workers": len(workers),
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
    healthy = (
        report["database"]["ok"]
        and report["redis"]["ok"]
        and report["scheduler"]["ok"]
        and bool(agents)
        and all(a["ok"] for a in agents.values())
    )
    return healthy, report
