"""Cinder's own filter-and-weigh pass over the same synthetic fleet, for comparison.

Run with a Python that has OpenStack Cinder installed (``bench/run.py`` makes
``.venv-cinder`` with ``pip install cinder`` and runs this there):
``.venv-cinder/bin/python bench/cinder_pass.py [--pools 1000] [--reps 200]``.

It builds Cinder's ``PoolState`` objects from ``bench_scheduler.synthetic_fleet``
(each updated from its capabilities as a report would), then times what
``FilterScheduler._get_weighted_candidates`` does once the states are in memory: the
HostManager's ``get_filtered_backends`` (the default AvailabilityZone, Capacity and
Capabilities filters) and ``get_weighed_backends`` (the CapacityWeigher), for an untyped
10 GiB volume, as ``bench_scheduler``'s "defaults, untyped" scenario. The states are
reused between runs ("warm"), as Cinder's scheduler keeps them between requests. Its
warnings (one per pool the CapacityFilter drops) go to a log file, as a service's do. Prints
one JSON line: median and 95th percentile of this thread's CPU time, in milliseconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_scheduler import synthetic_fleet  # noqa: E402


def cinder_states(size: int) -> list:
    from cinder.scheduler.host_manager import PoolState

    now = datetime.now(UTC)
    states = []
    for pool in synthetic_fleet(size):
        caps = dict(pool.capabilities, timestamp=now)
        state = PoolState(pool.host, None, None, caps["pool_name"])
        service = {"availability_zone": pool.availability_zone, "disabled": False}
        state.update_from_volume_capability(caps, service)
        states.append(state)
    return states


def host_manager():
    """Cinder's HostManager with its filters and weighers loaded (stevedore), without the
    database read its constructor would do."""
    from cinder.scheduler import filters, host_manager
    from oslo_config import cfg
    from oslo_utils import importutils

    cfg.CONF([], project="cinder")
    manager = host_manager.HostManager.__new__(host_manager.HostManager)
    manager.filter_handler = filters.BackendFilterHandler("cinder.scheduler.filters")
    manager.filter_classes = manager.filter_handler.get_all_classes()
    manager.enabled_filters = manager._choose_backend_filters(cfg.CONF.scheduler_default_filters)
    manager.weight_handler = importutils.import_object(
        cfg.CONF.scheduler_weight_handler, "cinder.scheduler.weights"
    )
    manager.weight_classes = manager.weight_handler.get_all_classes()
    return manager


def filter_properties(size: int) -> dict:
    """What FilterScheduler hands the filters for an untyped volume with no zone."""
    request_spec = {
        "volume_id": "00000000-0000-0000-0000-000000000001",
        "volume_properties": {"size": size},
        "resource_properties": {"size": size},
        "volume_type": {},
    }
    return {
        "request_spec": request_spec,
        "config_options": {},
        "volume_type": {},
        "resource_type": {},
        "size": size,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    from cinder import objects

    objects.register_all()  # as cinder's services do before anything else
    # Cinder's CapacityFilter logs a warning per pool it drops: to a log file, as a
    # service configured with log_file would (the default level, WARNING).
    logging.basicConfig(filename=os.devnull, level=logging.WARNING, force=True)
    manager = host_manager()
    states = cinder_states(args.pools)
    props = filter_properties(10)

    def one_pass() -> int:
        passed = list(manager.get_filtered_backends(states, props))
        weighed = manager.get_weighed_backends(passed, props)
        return len(weighed)

    for _ in range(5):
        survivors = one_pass()
    gc.collect()
    times = []
    for _ in range(args.reps):
        started = time.thread_time()
        one_pass()
        times.append((time.thread_time() - started) * 1000.0)
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    result = {"pools": args.pools, "weighed": survivors, "cpu_median_ms": statistics.median(times)}
    result["cpu_p95_ms"] = p95
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
