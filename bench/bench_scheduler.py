"""Time ``scheduler.decision.decide`` on synthetic fleets of 1,000 and 10,000 pools.

Run from the repository root: ``python bench/bench_scheduler.py [--reps N]``.

Each scenario is timed with tracing on and off, "cold" (fresh PoolState
objects every run, as the scheduler builds them from the database per
request, so no derived capacity figures are cached) and "warm" (the same
objects reused). Reported figures are the median and 95th percentile, in
milliseconds, of wall-clock time around ``decide`` and of this thread's CPU
time (``time.thread_time``), which stays honest when other processes compete
for the two cores. ``gc`` is left on; it is collected before each cell.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler.decision import decide  # noqa: E402
from scheduler.state import Options, PoolState, Request  # noqa: E402

ZONES = ("az1", "az2", "az3")
TIERS = ("gold", "silver", "bronze")
PROTOCOLS = ("iSCSI", "FC", "NFS")


def synthetic_fleet(size: int, seed: int = 7) -> list[PoolState]:
    """Pools with a realistic mix: thin and thick LVM-like, full and empty, 3 zones."""
    rnd = random.Random(seed)
    pools = []
    for i in range(size):
        thin = rnd.random() < 0.6
        total = float(rnd.choice((500, 1000, 2000, 4000, 8000, 16000)))
        used = total * rnd.random()
        provisioned = used * (rnd.uniform(1.0, 6.0) if thin else 1.0)
        backend = f"lvm-{i}"
        caps = {
            "pool_name": backend,
            "volume_backend_name": backend,
            "vendor_name": "Open Source",
            "driver_version": "3.0.0",
            "storage_protocol": rnd.choice(PROTOCOLS),
            "total_capacity_gb": total,
            "free_capacity_gb": round(total - used, 2),
            "allocated_capacity_gb": round(provisioned * 0.9, 2),
            "provisioned_capacity_gb": round(provisioned, 2),
            "reserved_percentage": rnd.choice((0, 0, 5, 10)),
            "max_over_subscription_ratio": rnd.choice(("20.0", "10.0", "auto", "1.5")),
            "thin_provisioning_support": thin,
            "thick_provisioning_support": not thin,
            "multiattach": True,
            "total_volumes": rnd.randint(0, 400),
            "storage_tier": rnd.choice(TIERS),
            "QoS_support": False,
            "goodness_function": "(capabilities.total_volumes < 200) ? 100 : 50",
        }
        pools.append(
            PoolState(
                name=f"node{i // 4}@{backend}#{backend}",
                host=f"node{i // 4}@{backend}",
                availability_zone=ZONES[i % len(ZONES)],
                capabilities=caps,
            )
        )
    return pools


def fresh(pools: list[PoolState]) -> list[PoolState]:
    """New PoolState objects over the same dicts: nothing cached, like a DB read."""
    return [PoolState(p.name, p.host, p.availability_zone, p.capabilities) for p in pools]


SCENARIOS: dict[str, tuple[Request, dict]] = {
    # Cinder's defaults, an untyped 10 GiB volume with no zone: nearly every
    # pool survives to be weighed, the heaviest path.
    "defaults, untyped": (Request(size=10), {}),
    # A typed request in one zone: the filters cut the field down.
    "defaults, typed+AZ": (
        Request(
            size=100,
            availability_zone="az1",
            extra_specs={"capabilities:storage_tier": "<in> gold", "storage_protocol": "iSCSI"},
        ),
        {},
    ),
    "4 weighers + retry": (
        Request(size=10, retry={"num_attempts": 2, "backends": ["node0@lvm-0#lvm-0"]}),
        {
            "filters": [
                "AvailabilityZoneFilter",
                "CapacityFilter",
                "CapabilitiesFilter",
                "IgnoreAttemptedHostsFilter",
            ],
            "weighers": [
                "CapacityWeigher",
                "AllocatedCapacityWeigher",
                "VolumeNumberWeigher",
                "GoodnessWeigher",
            ],
        },
    ),
}


def summary(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95


def measure(run: Callable[[], tuple[float, float]], reps: int) -> tuple[float, ...]:
    for _ in range(min(5, reps)):
        run()  # warm caches: regex compiles, lru caches, code paths
    gc.collect()
    walls, cpus = zip(*(run() for _ in range(reps)), strict=True)
    return (*summary(list(walls)), *summary(list(cpus)))


def timed(
    pools: list[PoolState], req: Request, opts: Options, cold: bool
) -> Callable[[], tuple[float, float]]:
    def run() -> tuple[float, float]:
        batch = fresh(pools) if cold else pools
        wall, cpu = time.perf_counter(), time.thread_time()
        decide(batch, req, opts)
        return (time.perf_counter() - wall) * 1000.0, (time.thread_time() - cpu) * 1000.0

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="runs per 1,000-pool cell")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {args.reps} runs per 1,000-pool cell\n")
    header = (
        f"{'scenario':<26} {'pools':>6} {'trace':>5} {'cache':>5}"
        f" {'wall median':>11} {'wall p95':>9} {'cpu median':>10} {'cpu p95':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in (1_000, 10_000):
        pools = synthetic_fleet(size)
        reps = args.reps if size == 1_000 else max(20, args.reps // 5)
        for label, (req, overrides) in SCENARIOS.items():
            for trace in (True, False):
                opts = Options(trace=trace, **overrides)
                for cold in (True, False):
                    wall, wall95, cpu, cpu95 = measure(timed(pools, req, opts, cold), reps)
                    print(
                        f"{label:<26} {size:>6} {'on' if trace else 'off':>5}"
                        f" {'cold' if cold else 'warm':>5} {wall:>11.3f} {wall95:>9.3f}"
                        f" {cpu:>10.3f} {cpu95:>8.3f}"
                    )
    sample = decide(synthetic_fleet(1_000), SCENARIOS["defaults, untyped"][0], Options())
    survivors = len(sample.weighed)
    print(f"\n1,000 pools, defaults: {survivors} survive the filters; chosen {sample.chosen}")
    # What storing the trace costs on top (the scheduler driver keeps every one).
    to_json = summary([_cpu_ms(sample.to_json) for _ in range(args.reps)])[0]
    data = sample.to_json()
    dumps = summary([_cpu_ms(lambda: json.dumps(data)) for _ in range(args.reps)])[0]
    print(f"its to_json(): {to_json:.3f} ms cpu median; json.dumps of that: {dumps:.3f} ms")


def _cpu_ms(work: Callable[[], object]) -> float:
    start = time.thread_time()
    work()
    return (time.thread_time() - start) * 1000.0


if __name__ == "__main__":
    main()
