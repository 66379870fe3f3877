"""End-to-end load through the Block Storage API, the way Rally loads Cinder.

Run from the repository root: ``python bench/bench_api.py [--rates 5,10,20,40]
[--duration 20] [--url URL --username U --password P --project NAME]``.

Without ``--url`` it launches its own stack (embedded Redis, daphne, the
scheduler and the demo agents, exactly as ``make run``) on a fresh SQLite
database under ``var/bench-api``, and stops it at the end.

For each offered rate R:
1. Create phase: POST /v3/volumes (1 GiB, type ``thin``, tagged with run
   metadata) at fixed instants t0 + i/R for ``duration`` seconds (open loop:
   a slow answer does not delay the next request), from a thread pool.
2. A poller lists, every ``poll`` seconds on average (at random intervals, so the looks
   never line up with the fixed sending instants), the run's volumes that became
   ``available`` since shortly before its last look (``volumes?status=available
   &updated_at=gte:...``, microversion 3.60), and the ``error`` ones once a
   second; a volume is settled at the moment the listing that shows it came
   back (so latencies are upper bounds, within one and a half poll intervals). A final
   listing tells ``available`` from ``error``.
3. Delete phase: DELETE each volume at the same offered rate; settled when it
   no longer appears in ``status=deleting``; a final listing counts leftovers.
Reported per phase: POST latency and POST -> settled latency (p50/p95/p99),
throughput (settled per second from the first request to the last settling),
and errors (non-2xx answers, ``error`` volumes, and anything not settled
within ``--drain`` seconds). Quota is lifted to unlimited for the project.
When it launched the stack itself it also reports the CPU time each service
spent per volume in the phase (the process and all its children, work horses
included), which says where the time goes when a rate cannot be sustained.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import requests

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))


@dataclass
class Item:
    sent: float
    answered: float = 0.0
    status: int = 0
    volume_id: str = ""
    settled: float = 0.0
    outcome: str = ""


@dataclass
class Phase:
    name: str
    rate: float
    items: list[Item] = field(default_factory=list)
    started: float = 0.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def password_auth(username: str, password: str, project: str) -> dict:
    """Keystone's password authentication, scoped to ``project``."""
    user = {"name": username, "domain": {"name": "Default"}, "password": password}
    return {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": user}},
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
        }
    }


class Client:
    def __init__(self, url: str, username: str, password: str, project: str):
        self.url = url.rstrip("/")
        self.local = threading.local()
        body = password_auth(username, password, project)
        answer = requests.post(f"{self.url}/identity/v3/auth/tokens", json=body, timeout=30)
        answer.raise_for_status()
        self.token = answer.headers["X-Subject-Token"]
        self.project_id = answer.json()["token"]["project"]["id"]
        self.headers = {
            "X-Auth-Token": self.token,
            "OpenStack-API-Version": "volume 3.71",
            "Accept": "application/json",
        }

    @property
    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(
            method, f"{self.url}/v3{path}", headers=self.headers, timeout=120, **kwargs
        )

    def ids_with_status(self, run: str, status: str, updated_since: str = "") -> set[str] | None:
        metadata = json.dumps({"bench": run}).replace('"', "'")
        params = {"metadata": metadata, "limit": 1000}
        if status:
            params["status"] = status
        if updated_since:
            params["updated_at"] = f"gte:{updated_since}"
        ids: set[str] = set()
        path = "/volumes"  # the summary: the server filters, ids are all we need
        while True:
            answer = self.call("GET", path, params=params)
            if answer.status_code != 200:
                return None
            body = answer.json()
            ids.update(v["id"] for v in body["volumes"])
            links = body.get("volumes_links")
            if not links:
                return ids
            params = None
            path = links[0]["href"].split("/v3", 1)[1]


def offered(rate: float, count: int, action) -> None:
    """Fire ``action(i)`` at t0 + i/rate, never waiting for earlier answers."""
    with ThreadPoolExecutor(max_workers=128) as pool:
        t0 = time.monotonic() + 0.05
        for i in range(count):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(action, i)


class Leaving:
    """Volumes that have left ``status``: one listing of the run's volumes still in it
    (the delete phase: a deleted volume is gone from every listing)."""

    def __init__(self, client: Client, run: str, status: str):
        self.client, self.run, self.status = client, run, status

    def __call__(self, items: list[Item]) -> set[str] | None:
        pending = self.client.ids_with_status(self.run, self.status)
        if pending is None:
            return None
        return {i.volume_id for i in items if i.volume_id and i.volume_id not in pending}


class Settled:
    """Volumes that have left ``creating``, seen through 3.60's ``updated_at`` filter: each
    look lists only the run's volumes that became ``available`` since shortly before the
    last look, so it costs the same whatever the backlog (a listing of every volume still
    ``creating`` grows with it, and past saturation the watching would eat the CPU it
    measures). ``error`` volumes are looked for once a second. Assumes this machine's
    clock and the server's agree within ``MARGIN``."""

    MARGIN = 1.0
    ERROR_EVERY = 10

    def __init__(self, client: Client, run: str):
        self.client, self.run = client, run
        self.done: set[str] = set()
        self.since: datetime | None = None
        self.looks = 0

    def __call__(self, items: list[Item]) -> set[str] | None:
        asked = datetime.now(UTC)
        since = self.since or asked - timedelta(seconds=60)
        stamp = since.replace(tzinfo=None).isoformat()
        available = self.client.ids_with_status(self.run, "available", updated_since=stamp)
        if available is None:
            return None
        self.done |= available
        if self.looks % self.ERROR_EVERY == 0:
            self.done |= self.client.ids_with_status(self.run, "error") or set()
        self.looks += 1
        self.since = asked - timedelta(seconds=self.MARGIN)
        return self.done


def watch(phase: Phase, settled_ids, poll: float, drain: float, sending: threading.Event) -> None:
    """Settle items ``settled_ids`` reports; stop when all settled or ``drain`` s after sending."""
    deadline = None
    while True:
        asked = time.monotonic()
        done = settled_ids(phase.items)
        now = time.monotonic()
        if done is not None:
            for item in phase.items:
                if item.volume_id and not item.settled and item.answered < asked:
                    if item.volume_id in done:
                        item.settled = now
        if not sending.is_set():
            deadline = deadline or now + drain
            answered = [i for i in phase.items if i.status]
            if len(answered) == len(phase.items) and all(
                i.settled or not i.volume_id for i in answered
            ):
                return
            if now > deadline:
                return
        # Looks at random intervals averaging ``poll``: at a steady rate whose period the
        # poll divides, fixed intervals would see every create the same fraction of a poll
        # late, an offset that differs with how long a create takes (SQLite or PostgreSQL).
        pause = poll * random.uniform(0.5, 1.5)
        time.sleep(max(0.0, pause - (time.monotonic() - asked)))


def run_phase(
    client: Client,
    phase: Phase,
    count: int,
    request,
    settled_ids,
    poll: float,
    drain: float,
) -> None:
    phase.items = [Item(sent=0.0) for _ in range(count)]
    sending = threading.Event()
    sending.set()

    def action(i: int) -> None:
        item = phase.items[i]
        item.sent = time.monotonic()
        try:
            answer = request(i)
            item.status = answer.status_code
            item.volume_id = answer.volume_id
        except Exception as error:  # a refused connection counts as an error
            item.status = -1
            print(f"  request {i} failed: {error}", file=sys.stderr)
        item.answered = time.monotonic()

    watcher = threading.Thread(
        target=watch, args=(phase, settled_ids, poll, drain, sending), daemon=True
    )
    watcher.start()
    phase.started = time.monotonic()
    offered(phase.rate, count, action)
    sending.clear()
    watcher.join()


@dataclass
class Answer:
    status_code: int
    volume_id: str


def summarize(phase: Phase, final_ok: set[str], duration: float) -> dict:
    items = phase.items
    http_errors = sum(1 for i in items if not 200 <= i.status < 300)
    post = [i.answered - i.sent for i in items if i.status]
    settled = [i for i in items if i.settled and i.volume_id in final_ok]
    end_to_end = [i.settled - i.sent for i in settled]
    bad_outcome = sum(1 for i in items if i.volume_id and i.settled and i.volume_id not in final_ok)
    unsettled = sum(1 for i in items if i.volume_id and not i.settled)
    last = max((i.settled for i in settled), default=phase.started)
    span = max(1e-9, last - phase.started)
    return {
        "phase": phase.name,
        "offered_per_s": phase.rate,
        "requests": len(items),
        "duration_s": duration,
        "http_p50_ms": round(1000 * pct(post, 50), 1),
        "http_p99_ms": round(1000 * pct(post, 99), 1),
        "p50_s": round(pct(end_to_end, 50), 3),
        "p95_s": round(pct(end_to_end, 95), 3),
        "p99_s": round(pct(end_to_end, 99), 3),
        "max_s": round(max(end_to_end, default=float("nan")), 3),
        "ok": len(settled),
        "throughput_per_s": round(len(settled) / span, 2),
        "http_errors": http_errors,
        "error_status": bad_outcome,
        "not_settled": unsettled,
    }


class CpuMeter:
    """CPU seconds used so far by each service of a launched stack (children included);
    the copies of one program (``daphne-1``, ``daphne-2``) count together. Also this
    benchmark's own process (its requests and watching share the two cores), and the
    machine's servers named in ``servers`` (``postgres``, ``redis-server``) when used."""

    def __init__(self, launcher, servers: tuple[str, ...] = ()) -> None:
        self.launcher = launcher
        self.servers = servers

    def read(self) -> dict[str, float]:
        from portal import supervision

        used: dict[str, float] = {}
        for info in supervision.processes(self.launcher.var_dir) or []:
            if not info["pid"]:
                continue
            name = info["group"]
            try:
                proc = psutil.Process(info["pid"])
                times = proc.cpu_times()
                total = times.user + times.system + times.children_user + times.children_system
                for child in proc.children(recursive=True):
                    with_child = child.cpu_times()
                    total += with_child.user + with_child.system
            except psutil.Error:
                continue
            used[name] = used.get(name, 0.0) + total
        mine = psutil.Process().cpu_times()
        used["bench client"] = mine.user + mine.system
        for proc in psutil.process_iter(["name", "cpu_times"]):
            if proc.info["name"] in self.servers and proc.info["cpu_times"]:
                name = f"{proc.info['name']} (machine)"
                times = proc.info["cpu_times"]
                used[name] = used.get(name, 0.0) + times.user + times.system
        return used

    @staticmethod
    def per_volume(before: dict, after: dict, volumes: int) -> dict[str, float]:
        return {
            name: round(1000 * (after[name] - before.get(name, 0.0)) / max(1, volumes), 1)
            for name in after
        }


def bench_rate(
    client: Client, rate: float, duration: float, poll: float, drain: float, meter=None
) -> list:
    run = f"r{int(rate)}-{uuid.uuid4().hex[:6]}"
    count = int(rate * duration)

    def create(i: int) -> Answer:
        body = {
            "volume": {
                "size": 1,
                "name": f"bench-{run}-{i}",
                "volume_type": "thin",
                "metadata": {"bench": run},
            }
        }
        answer = client.call("POST", "/volumes", json=body)
        vid = answer.json()["volume"]["id"] if answer.status_code == 202 else ""
        return Answer(answer.status_code, vid)

    creates = Phase("create", rate)
    cpu_before = meter.read() if meter else None
    load_before = os.getloadavg()[0]
    run_phase(client, creates, count, create, Settled(client, run), poll, drain)
    cpu_after = meter.read() if meter else None
    available = client.ids_with_status(run, "available") or set()
    made = [i.volume_id for i in creates.items if i.volume_id]
    results = [summarize(creates, available, duration)]
    # The machine's 1-minute load around the phase (ours included: read it against ~2).
    results[0]["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if meter:
        results[0]["cpu_ms_per_volume"] = meter.per_volume(cpu_before, cpu_after, count)

    def delete(i: int) -> Answer:
        volume_id = made[i]
        answer = client.call("DELETE", f"/volumes/{volume_id}")
        return Answer(answer.status_code, volume_id if answer.status_code == 202 else "")

    deletes = Phase("delete", rate)
    cpu_before = meter.read() if meter else None
    load_before = os.getloadavg()[0]
    run_phase(client, deletes, len(made), delete, Leaving(client, run, "deleting"), poll, drain)
    cpu_after = meter.read() if meter else None
    leftovers = client.ids_with_status(run, "") or set()
    gone = {v for v in made if v not in leftovers}
    results.append(summarize(deletes, gone, len(made) / rate))
    results[1]["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if meter:
        results[1]["cpu_ms_per_volume"] = meter.per_volume(cpu_before, cpu_after, len(made))
    return results


def launch(var: str, port: int, password: str, database_url: str = "", redis_url: str = ""):
    """Migrate, seed and start the stack under ``var`` (as `make run`), returning the launcher.
    SQLite and the embedded Redis unless ``database_url``/``redis_url`` name others."""
    env = os.environ
    env.update(
        CINDERLAB_VAR=var,
        CINDERLAB_DEMO_PASSWORD=password,
        CINDERLAB_ADMIN_PASSWORD=password,
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    shutil.rmtree(BASE / var, ignore_errors=True)
    if database_url:
        fresh_postgres(database_url)
        env["DATABASE_URL"] = database_url
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        env["REDIS_URL"] = redis_url
    manage = [sys.executable, str(BASE / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, cwd=BASE)
    subprocess.run([*manage, "seed_demo"], check=True, cwd=BASE, stdout=subprocess.DEVNULL)
    import django

    django.setup()
    from django.conf import settings

    from portal.launcher import Launcher
    from portal.processes import agent_commands

    launcher = Launcher(
        BASE, settings.VAR_DIR, "127.0.0.1", port, web_workers=settings.OSAPI_VOLUME_WORKERS
    )
    launcher.start(agent_commands())
    if not launcher.wait_healthy(120):
        launcher.stop()
        raise SystemExit("the stack did not become healthy")
    return launcher


def fresh_postgres(url: str) -> None:
    """Drop and make the URL's database, through the server's ``postgres`` database."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def unlimited_quota(url: str, password: str, project: str) -> None:
    admin = Client(url, "admin", password, project)
    body = {"quota_set": {"volumes": -1, "gigabytes": -1, "snapshots": -1}}
    answer = admin.call("PUT", f"/os-quota-sets/{admin.project_id}", json=body)
    answer.raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="5,10,20,30,45,60")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument("--drain", type=float, default=120.0)
    parser.add_argument("--url")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default=os.environ.get("BENCH_PASSWORD", "bench-pass-1"))
    parser.add_argument("--project", default="demo")
    parser.add_argument("--port", type=int, default=8976)
    parser.add_argument("--var", default="var/bench-api")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="a PostgreSQL URL: its database is dropped and made afresh (default: SQLite)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="an external Redis, flushed first (default: the embedded one)",
    )
    args = parser.parse_args()

    launcher = None
    url = args.url
    if not url:
        launcher = launch(args.var, args.port, args.password, args.database_url, args.redis_url)
        url = f"http://127.0.0.1:{args.port}"
    try:
        unlimited_quota(url, args.password, args.project)
        client = Client(url, args.username, args.password, args.project)
        servers = (("postgres",) if args.database_url else ()) + (
            ("redis-server",) if args.redis_url else ()
        )
        meter = CpuMeter(launcher, servers) if launcher is not None else None
        results = []
        for rate in [float(r) for r in args.rates.split(",")]:
            for row in bench_rate(client, rate, args.duration, args.poll, args.drain, meter):
                results.append(row)
                print(json.dumps(row), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        print_table(results)
    finally:
        if launcher is not None:
            launcher.stop()
    return 0


def print_table(results: list[dict]) -> None:
    print(
        "\n| phase | offered/s | requests | HTTP p50 ms | p50 s | p95 s | p99 s | max s | "
        "throughput/s | errors | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        errors = r["http_errors"] + r["error_status"] + r["not_settled"]
        print(
            f"| {r['phase']} | {r['offered_per_s']:g} | {r['requests']} | {r['http_p50_ms']} | "
            f"{r['p50_s']} | {r['p95_s']} | {r['p99_s']} | {r['max_s']} | "
            f"{r['throughput_per_s']} | {errors} | {'→'.join(map(str, r.get('load', [])))} |"
        )
    cpu_rows = [r for r in results if r.get("cpu_ms_per_volume")]
    if cpu_rows:
        names = list(cpu_rows[0]["cpu_ms_per_volume"])
        print("\nCPU ms per volume, per service (process and its children):\n")
        print(f"| phase | offered/s | {' | '.join(names)} | total |")
        print("|---|---|" + "---|" * (len(names) + 1))
        for r in cpu_rows:
            cpu = r["cpu_ms_per_volume"]
            cells = " | ".join(f"{cpu.get(n, 0):g}" for n in names)
            print(f"| {r['phase']} | {r['offered_per_s']:g} | {cells} | {sum(cpu.values()):.0f} |")


if __name__ == "__main__":
    sys.exit(main())
