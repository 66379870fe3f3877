"""Where a create's CPU goes, stage by stage, in one process (no daphne, no fork, no queue wait).

Run from the repository root: ``python bench/profile_create.py [--count 50] [--var var/h-prof]``.
It migrates and seeds a fresh database under ``--var`` (SQLite unless ``DATABASE_URL`` is
set), starts the embedded Redis, then for each create: ``POST /v3/{project}/volumes``
through Django's test client (the API flow in the request), then the scheduler's job and the
agent's job taken off their RQ queues and performed here, then whatever those cast to the
scheduler (``reports``: capability reports). ``--deletes`` then deletes every volume made,
the same way (``api-delete``, ``agent-delete``, ``reports-delete``). Per stage it reports the
median CPU time (``time.process_time``) and SQL statements; ``--profile STAGE`` prints a
cProfile of that stage.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
sys.path.insert(0, str(BASE / "bench"))

from bench_api import password_auth  # noqa: E402

STAGES = ("api", "scheduler", "agent", "reports", "api-delete", "agent-delete", "reports-delete")


def prepare(var: str) -> None:
    os.environ.update(CINDERLAB_VAR=var, DJANGO_SETTINGS_MODULE="portal.settings")
    os.environ.setdefault("CINDERLAB_DEMO_PASSWORD", "bench-pass-1")
    os.environ.setdefault("CINDERLAB_ADMIN_PASSWORD", "bench-pass-1")
    os.environ.setdefault("CINDERLAB_LOG_LEVEL", "WARNING")
    shutil.rmtree(BASE / var, ignore_errors=True)
    manage = [sys.executable, str(BASE / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, cwd=BASE)
    subprocess.run([*manage, "seed_demo"], check=True, cwd=BASE, stdout=subprocess.DEVNULL)


def package_of(filename: str) -> str:
    """``site-packages/django/db/...`` -> ``django.db``; our code by its top two folders."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1 :]
        return ".".join(p.removesuffix(".py") for p in rest[:2])
    if filename.startswith(str(BASE)):
        rest = Path(filename).relative_to(BASE).parts
        return ".".join(p.removesuffix(".py") for p in rest[:2])
    return parts[-1] if parts else filename


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--var", default="var/h-prof")
    parser.add_argument("--deletes", action="store_true", help="then delete every volume made")
    parser.add_argument("--profile", choices=STAGES)
    parser.add_argument("--sql", choices=STAGES, help="print its SQL")
    parser.add_argument("--sort", default="tottime", help="the profile's order (cumulative...)")
    parser.add_argument("--lines", type=int, default=25, help="the profile's rows")
    parser.add_argument("--dump", help="also save the profile here (for pstats)")
    args = parser.parse_args()
    prepare(args.var)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rq import Queue

    from agent.models import BackendConfig
    from agent.service import Agent
    from core.kernel import events
    from core.kernel.queues import SCHEDULER_QUEUE, redis_connection
    from portal.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(settings.VAR_DIR) if settings.EMBEDDED_REDIS else None
    if redis:
        redis.start()
    try:
        agent = Agent(list(BackendConfig.objects.all()))
        agent.init_host()
        agent.report_capabilities()
        conn = redis_connection()

        def drain(queue_name: str) -> list:
            queue = Queue(queue_name, connection=conn)
            jobs = []
            while (job := queue.dequeue_any([queue], None, connection=conn)) is not None:
                jobs.append(job[0])
            return jobs

        for job in drain(SCHEDULER_QUEUE):
            job.perform()
        client = Client(SERVER_NAME="127.0.0.1")

        def served(suffix: str) -> None:
            """Perform what one request queued: the scheduler's jobs, the agents' jobs, then
            what those cast to the scheduler (capability reports)."""
            for job in drain(SCHEDULER_QUEUE):
                measured("scheduler" + suffix, job.perform)
            for config in BackendConfig.objects.all():
                for job in drain(f"volume.{config.service_host}"):
                    measured("agent" + suffix, job.perform)
            for job in drain(SCHEDULER_QUEUE):
                measured("reports" + suffix, job.perform)
            events.flush()

        def login(name: str) -> tuple[dict, str]:
            password = os.environ[f"CINDERLAB_{name.upper()}_PASSWORD"]
            body = password_auth(name, password, "demo")
            answer = client.post("/identity/v3/auth/tokens", body, content_type="application/json")
            token = answer.headers["X-Subject-Token"]
            headers = {"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.71"}
            return headers, answer.json()["token"]["project"]["id"]

        admin, project = login("admin")
        unlimited = {"quota_set": {"volumes": -1, "gigabytes": -1, "snapshots": -1}}
        answer = client.put(
            f"/v3/{project}/os-quota-sets/{project}",
            unlimited,
            content_type="application/json",
            headers=admin,
        )
        assert answer.status_code == 200, answer.content
        headers, project = login("demo")
        stages: dict[str, list] = {"api": [], "scheduler": [], "agent": []}
        made: list[str] = []
        profiler = cProfile.Profile() if args.profile else None
        statements: dict[str, list[str]] = {}

        def measured(stage: str, func) -> None:
            stages.setdefault(stage, [])
            reset_queries()  # Django keeps the last 9,000: a full log counts none
            with CaptureQueriesContext(connection) as queries:
                if profiler and stage == args.profile:
                    profiler.enable()
                cpu = time.process_time()
                func()
                used = time.process_time() - cpu
                if profiler and stage == args.profile:
                    profiler.disable()
            stages[stage].append((used * 1000, len(queries)))
            statements[stage] = [q["sql"] for q in queries.captured_queries]

        for i in range(args.count):
            volume = {"volume": {"size": 1, "name": f"p{i}", "volume_type": "thin"}}

            def post(volume=volume) -> None:
                answer = client.post(
                    f"/v3/{project}/volumes",
                    volume,
                    content_type="application/json",
                    headers=headers,
                )
                assert answer.status_code == 202, answer.content
                made.append(answer.json()["volume"]["id"])

            measured("api", post)
            served("")
        for volume_id in made if args.deletes else ():

            def delete(volume_id=volume_id) -> None:
                answer = client.delete(f"/v3/{project}/volumes/{volume_id}", headers=headers)
                assert answer.status_code == 202, answer.content

            measured("api-delete", delete)
            served("-delete")
        warm = args.count // 5
        done = "creates and deletes" if args.deletes else "creates"
        print(f"{args.count} {done}, medians after the first {warm}:")
        total = 0.0
        for stage, values in stages.items():
            values = values[warm:] or values
            if not values:
                continue
            cpu = statistics.median(v[0] for v in values)
            sql = statistics.median(v[1] for v in values)
            total += cpu
            print(f"  {stage:<14} {cpu:6.1f} ms CPU  {sql:4.0f} SQL statements")
        print(f"  {'total':<14} {total:6.1f} ms CPU")
        if args.sql:
            print(f"\nThe last {args.sql} stage's SQL:")
            for sql in statements[args.sql]:
                print(f"  {sql[:160]}")
        if profiler:
            stats = pstats.Stats(profiler)
            by_package: dict[str, float] = {}
            for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
                by_package[package_of(filename)] = by_package.get(package_of(filename), 0) + tottime
            total = sum(by_package.values())
            print(f"\n{args.profile}: own time by package (profiled, so inflated)")
            for name, spent in sorted(by_package.items(), key=lambda kv: -kv[1])[:20]:
                print(f"  {name:<40} {100 * spent / total:5.1f}%")
            stats.sort_stats(args.sort).print_stats(args.lines)
            if args.dump:
                stats.dump_stats(args.dump)
    finally:
        if redis:
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
