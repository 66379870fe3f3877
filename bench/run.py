"""What ``make bench`` runs: the scheduler's benchmarks, then the API's (if present).

1. ``bench/bench_scheduler.py``: ``decide`` alone over 1,000 and 10,000 pools,
   trace on and off, cold (fresh PoolState objects) and warm (reused).
2. The stored decision, as the scheduler driver pays for it: ``decide`` with the
   trace on, plus building the DecisionTrace record (bounded above 100 pools, see
   scheduler/trace.py) and ``json.dumps`` of it, for 1,000 and 10,000 pools,
   cold and warm; and, for comparison, the whole unbounded ``to_json`` + dumps.
3. Cinder's own filter-and-weigh pass over the same 1,000 pools (``bench/cinder_pass.py``,
   run in ``.venv-cinder``, made once with Cinder from PyPI; ``BENCH_SKIP_CINDER=1`` skips
   it), against the stored decision above: the aim is at most a third of Cinder's.
4. ``bench/bench_api.py`` if it exists (arguments from ``BENCH_API_ARGS``; set
   ``BENCH_SKIP_API=1`` to skip it).

Figures are medians and 95th percentiles in milliseconds, CPU time of this
thread (``time.thread_time``) and wall time; the two cores are shared, so CPU
time is the steadier figure.
"""

from __future__ import annotations

import gc
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from bench_scheduler import fresh, summary, synthetic_fleet  # noqa: E402

from scheduler import trace  # noqa: E402
from scheduler.decision import decide  # noqa: E402
from scheduler.state import Options, Request  # noqa: E402


def banner(title: str) -> None:
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}", flush=True)


def stored_decision(pools, req: Request, opts: Options, cold: bool, whole: bool = False):
    """One scheduling decision as the driver stores it; returns (wall ms, cpu ms, bytes)."""

    def run() -> tuple[float, float, int]:
        batch = fresh(pools) if cold else pools
        wall, cpu = time.perf_counter(), time.thread_time()
        decision = decide(batch, req, opts)
        record = decision.to_json() if whole else trace.record(decision, {})
        size = len(json.dumps(record))
        return (time.perf_counter() - wall) * 1000.0, (time.thread_time() - cpu) * 1000.0, size

    return run


def measure(run: Callable[[], tuple[float, float, int]], reps: int) -> tuple[float, ...]:
    for _ in range(min(5, reps)):
        run()
    gc.collect()
    results = [run() for _ in range(reps)]
    walls, cpus, sizes = zip(*results, strict=True)
    return (*summary(list(walls)), *summary(list(cpus)), sizes[-1])


def stored_trace_table(reps: int) -> float:
    """Print the table; return the warm 1,000-pool stored decision's CPU median (ms)."""
    banner("Scheduler: one decision as stored (decide + DecisionTrace record + json.dumps)")
    req, opts = Request(size=10), Options(trace=True)
    header = (
        f"{'pools':>6} {'record':>9} {'cache':>5} {'wall median':>11} {'wall p95':>9}"
        f" {'cpu median':>10} {'cpu p95':>8} {'JSON bytes':>10}"
    )
    print("defaults (3 filters, CapacityWeigher), untyped 10 GiB: nearly every pool is weighed\n")
    print(header)
    print("-" * len(header))
    stored = float("nan")
    for size in (1_000, 10_000):
        pools = synthetic_fleet(size)
        n = reps if size == 1_000 else max(20, reps // 5)
        for whole in (False, True):
            for cold in (True, False):
                wall, wall95, cpu, cpu95, nbytes = measure(
                    stored_decision(pools, req, opts, cold, whole), n
                )
                label = "whole" if whole else "bounded"
                if size == 1_000 and not whole and not cold:
                    stored = cpu
                print(
                    f"{size:>6} {label:>9} {'cold' if cold else 'warm':>5} {wall:>11.3f}"
                    f" {wall95:>9.3f} {cpu:>10.3f} {cpu95:>8.3f} {nbytes:>10}",
                    flush=True,
                )
    return stored


CINDER_VERSION = "29.0.0"
CINDER_VENV = ROOT / ".venv-cinder"


def cinder_python() -> Path | None:
    """``.venv-cinder`` with the pinned Cinder, made once; None if it cannot be installed."""
    marker = CINDER_VENV / f".cinder-{CINDER_VERSION}"
    python = CINDER_VENV / "bin" / "python"
    if not (marker.exists() and python.exists()):  # made afresh if half of it is gone
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        try:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(CINDER_VENV)], check=True)
            subprocess.run([*pip, f"cinder=={CINDER_VERSION}"], check=True)
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"Cinder could not be installed ({error}); no comparison", flush=True)
            return None
        marker.touch()
    return python


def cinder_comparison(ours_ms: float, reps: int) -> None:
    banner("Cinder's own filter-and-weigh pass, 1,000 pools (bench/cinder_pass.py)")
    python = cinder_python()
    if python is None:
        return
    found = subprocess.run(
        [str(python), str(BENCH / "cinder_pass.py"), "--reps", str(reps)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        print(f"cinder_pass.py failed:\n{found.stderr[-2000:]}", flush=True)
        return
    cinder = json.loads(found.stdout.strip().splitlines()[-1])
    ratio = cinder["cpu_median_ms"] / ours_ms
    print(
        f"Cinder {CINDER_VERSION}: {cinder['cpu_median_ms']:.2f} ms CPU median"
        f" (p95 {cinder['cpu_p95_ms']:.2f}), {cinder['weighed']} pools weighed\n"
        f"Cinderlab, decide + bounded record + dumps, warm: {ours_ms:.2f} ms"
        f" = 1/{ratio:.1f} of Cinder's (aim: at most 1/3)",
        flush=True,
    )


def run_script(name: str, args: list[str]) -> int:
    return subprocess.call([sys.executable, str(BENCH / name), *args], cwd=ROOT)


def main() -> int:
    reps = int(os.environ.get("BENCH_REPS", "200"))
    banner("Scheduler: decide() alone (bench/bench_scheduler.py)")
    code = run_script("bench_scheduler.py", ["--reps", str(reps)])
    stored = stored_trace_table(reps)
    if not os.environ.get("BENCH_SKIP_CINDER"):
        cinder_comparison(stored, reps)
    if (BENCH / "bench_api.py").exists() and not os.environ.get("BENCH_SKIP_API"):
        banner("Block Storage API end to end (bench/bench_api.py)")
        code = run_script("bench_api.py", shlex.split(os.environ.get("BENCH_API_ARGS", ""))) or code
    return code


if __name__ == "__main__":
    sys.exit(main())
