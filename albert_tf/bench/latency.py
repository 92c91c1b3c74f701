"""Latency of one call: warm-up, then median / p90 / p99 over a fixed number of timed runs."""

import time

import numpy as np


def latency_stats(call, runs: int = 20, warmup: int = 2) -> dict:
    """Time `call()` `runs` times after `warmup` untimed calls.

    Returns:
        `{"median_ms", "p90_ms", "p99_ms", "runs"}`.
    """
    for _ in range(warmup):
        call()
    times = np.empty(runs)
    for i in range(runs):
        started = time.perf_counter()
        call()
        times[i] = (time.perf_counter() - started) * 1000.0
    return {"median_ms": round(float(np.median(times)), 3),
            "p90_ms": round(float(np.percentile(times, 90)), 3),
            "p99_ms": round(float(np.percentile(times, 99)), 3),
            "runs": runs}
