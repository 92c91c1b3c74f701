"""This machine's float32 matrix-multiply peak, per thread count (GFLOP/s), and how busy
the machine was while a benchmark ran.

A square float32 matmul runs in a child process whose BLAS thread pool is pinned through the
environment (OpenBLAS / OpenMP / MKL read it once, at import): the parent's thread pools
cannot be resized after start-up, and a child keeps the count honest. The best of several
timed products is the peak: the achieved GFLOP/s of each artifact is compared with it.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import time

logger = logging.getLogger(__name__)

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _child_peak(size: int, repeats: int) -> float:
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return 2.0 * size ** 3 / best / 1e9


def matmul_peak_gflops(threads: int, size: int = 1536, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of a `size`×`size` matmul with `threads` BLAS threads."""
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    code = (f"from albert_tf.bench.machine import _child_peak; "
            f"print(_child_peak({int(size)}, {int(repeats)}))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    return round(float(done.stdout.strip().splitlines()[-1]), 2)


def machine_facts(threads) -> dict:
    """CPU description and the measured matmul peak for each thread count."""
    logger.info("bench: measuring the float32 matmul peak (threads: %s)",
                ", ".join(str(t) for t in threads))
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "logical_cpus": os.cpu_count(),
            "matmul_peak_gflops": {str(t): matmul_peak_gflops(t) for t in threads},
            "peak_method": "numpy float32 matmul 1536x1536, best of 10, BLAS threads pinned "
                           "in a child process"}


# Marked noisy above these (issue: benchmark statistics). Other processes' CPU use is
# measured instead of read from the load average because the benchmark's own threads, and
# the recipe stages that ran just before it, raise the load average themselves.
NOISY_OTHER_LOAD_PER_CPU = 0.5
NOISY_STEAL_FRACTION = 0.05
NOISY_RELATIVE_INTERVAL = 0.2   # width of a speed-up's 95 % interval / the speed-up


def load_snapshot() -> dict:
    """Load averages, whole-machine CPU jiffies (/proc/stat) and this process's CPU time
    (its own threads and the children it has waited for), at one instant."""
    snapshot = {"time": time.monotonic(), "own_cpu_seconds": sum(os.times()[:4])}
    try:
        snapshot["loadavg"] = [round(v, 2) for v in os.getloadavg()]
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal [guest guest_nice: inside user]
        user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        snapshot["jiffies"] = {"busy": user + nice + system + irq + softirq,
                               "idle": idle + iowait, "steal": steal}
    except (OSError, ValueError):
        pass  # not Linux: no noise figures, and the report says so
    return snapshot


def noise_summary(start: dict, end: dict, cpus: int | None = None,
                  intervals: list | None = None) -> dict:
    """How much else ran between two `load_snapshot`s, and whether that makes the timings
    noisy.

    Args:
        start, end: snapshots taken before and after the timings.
        cpus: logical CPUs (default: this machine's).
        intervals: `(value, low, high)` speed-ups whose relative width is judged too.

    Returns:
        `{"loadavg_start", "loadavg_end", "other_load_per_cpu", "steal_fraction",
        "noisy", "reasons"}` (the figures None where the OS gives none).
    """
    cpus = cpus or os.cpu_count() or 1
    summary = {"loadavg_start": start.get("loadavg"), "loadavg_end": end.get("loadavg"),
               "other_load_per_cpu": None, "steal_fraction": None, "reasons": []}
    elapsed = end["time"] - start["time"]
    if "jiffies" in start and "jiffies" in end and elapsed > 0:
        hertz = os.sysconf("SC_CLK_TCK")
        delta = {k: end["jiffies"][k] - start["jiffies"][k] for k in start["jiffies"]}
        own = end["own_cpu_seconds"] - start["own_cpu_seconds"]
        other = max(0.0, delta["busy"] / hertz - own) / elapsed / cpus
        total = sum(delta.values())
        steal = delta["steal"] / total if total else 0.0
        summary.update(other_load_per_cpu=round(other, 3), steal_fraction=round(steal, 4))
        if other > NOISY_OTHER_LOAD_PER_CPU:
            summary["reasons"].append(f"other processes used {other:.2f} of each CPU "
                                      f"(limit {NOISY_OTHER_LOAD_PER_CPU})")
        if steal > NOISY_STEAL_FRACTION:
            summary["reasons"].append(f"the hypervisor stole {100 * steal:.1f} % of CPU time "
                                      f"(limit {100 * NOISY_STEAL_FRACTION:.0f} %)")
    for value, low, high in intervals or []:
        if value and (high - low) / value > NOISY_RELATIVE_INTERVAL:
            summary["reasons"].append(
                f"a speed-up's 95 % interval is wide: {value:.2f}× [{low:.2f}, {high:.2f}]")
            break
    summary["noisy"] = bool(summary["reasons"])
    return summary


if __name__ == "__main__":  # pragma: no cover - manual check
    print(json.dumps(machine_facts([1, 2]), indent=2))
