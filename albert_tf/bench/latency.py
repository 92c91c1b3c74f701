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


def _stats(times) -> dict:
    times = np.asarray(times, dtype=float)
    return {"median_ms": round(float(np.median(times)), 3),
            "p90_ms": round(float(np.percentile(times, 90)), 3),
            "p99_ms": round(float(np.percentile(times, 99)), 3),
            "runs": int(times.size),
            "times_ms": [round(float(t), 4) for t in times]}


def ratio_interval(slow_ms, fast_ms, confidence: float = 0.95, resamples: int = 2000,
                   seed: int = 0) -> tuple[float, float]:
    """Paired-bootstrap interval of median(slow) / median(fast).

    `slow_ms[i]` and `fast_ms[i]` must have been timed in the same interleaved round (what
    `interleaved_latency`'s `times_ms` lists hold): resampling the pairs, not each list on
    its own, keeps a burst of load that hit both timings inside one sample.
    """
    slow, fast = np.asarray(slow_ms, dtype=float), np.asarray(fast_ms, dtype=float)
    if slow.size != fast.size or slow.size < 2:
        raise ValueError(f"need two paired lists of at least 2 timings; got {slow.size} and "
                         f"{fast.size}")
    index = np.random.default_rng(seed).integers(0, slow.size, size=(resamples, slow.size))
    ratios = np.median(slow[index], axis=1) / np.median(fast[index], axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return float(low), float(high)


def interleaved_latency(calls: dict, runs: int = 20, warmup: int = 2, rounds: int = 4) -> dict:
    """Latency of several calls measured turn by turn, so machine noise hits them alike.

    Every call is warmed up, then `rounds` times each call runs its share of `runs` timed
    calls in turn (A, B, C, A, B, C, ...): a burst of load from another job lands on all of
    them instead of on whichever happened to be running.

    Args:
        calls: `{key: callable}`.
        runs: timed calls per key in all (at least one per round).
        warmup: untimed calls per key first.
        rounds: how many turns the runs are split into.

    Returns:
        `{key: {"median_ms", "p90_ms", "p99_ms", "runs", "times_ms"}}`; the i-th entries of
        two keys' `times_ms` were timed in the same round (pairs for `ratio_interval`).
    """
    for call in calls.values():
        for _ in range(warmup):
            call()
    rounds = max(1, min(rounds, runs))
    per_round = [runs // rounds + (1 if i < runs % rounds else 0) for i in range(rounds)]
    times = {key: [] for key in calls}
    for count in per_round:
        for key, call in calls.items():
            for _ in range(count):
                started = time.perf_counter()
                call()
                times[key].append((time.perf_counter() - started) * 1000.0)
    return {key: _stats(values) for key, values in times.items()}


def median_ratio(slow, fast, rounds: int = 7, runs: int = 5, warmup: int = 2) -> float:
    """Median over rounds of (median time of `slow`) / (median time of `fast`), A/B interleaved.

    Each round times `runs` calls of each, in alternating order, and takes the ratio of their
    medians; the median of the per-round ratios shrugs off rounds hit by another job.
    """
    for _ in range(warmup):
        slow()
        fast()
    ratios = []
    for round_index in range(rounds):
        pair = [("slow", slow), ("fast", fast)]
        if round_index % 2:
            pair.reverse()
        times = {"slow": [], "fast": []}
        for _ in range(runs):
            for key, call in pair:
                started = time.perf_counter()
                call()
                times[key].append(time.perf_counter() - started)
        ratios.append(float(np.median(times["slow"]) / np.median(times["fast"])))
    return float(np.median(ratios))
