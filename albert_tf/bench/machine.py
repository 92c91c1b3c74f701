"""This machine's float32 matrix-multiply peak, per thread count (GFLOP/s).

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

logger = logging.getLogger(__name__)

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _child_peak(size: int, repeats: int) -> float:
    import time

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


if __name__ == "__main__":  # pragma: no cover - manual check
    print(json.dumps(machine_facts([1, 2]), indent=2))
