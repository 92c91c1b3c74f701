"""This machine's float32 and int8 matrix-multiply peaks, per thread count, and how busy the
machine was while a benchmark ran.

float32: a square matmul runs in a child process whose BLAS thread pool is pinned through
the environment (OpenBLAS / OpenMP / MKL read it once, at import): the parent's thread pools
cannot be resized after start-up, and a child keeps the count honest.

int8: one dynamic-range-quantized TFLite FULLY_CONNECTED (int8 weights, activations quantized
on the fly), the product the dynamic-int8 artifacts spend their time in, run by the same
interpreter and XNNPACK kernels with `num_threads` set. On CPUs with int8 dot-product
instructions (AVX-512 VNNI, AVX-VNNI, AMX) it is many times the float32 peak, which is why
int8 artifacts are judged against it and never against the float32 one.

The best of several timed products is the peak: each artifact's achieved rate is compared
with the peak of its precision.
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


# The int8 product: rows x size times size x size, int8 weights (ops = 2 * rows * size^2).
INT8_ROWS, INT8_SIZE = 64, 1024


def int8_gemm_tflite(rows: int = INT8_ROWS, size: int = INT8_SIZE) -> bytes:
    """A TFLite model of one `[rows, size] x [size, size]` product, dynamic-range quantized."""
    import numpy as np
    import tensorflow as tf

    weights = tf.constant(np.random.default_rng(0).standard_normal((size, size), np.float32))

    @tf.function(input_signature=[tf.TensorSpec([rows, size], tf.float32)])
    def product(x):
        return tf.matmul(x, weights)

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [product.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def int8_matmul_peak_gops(threads: int, model: bytes, rows: int = INT8_ROWS,
                          size: int = INT8_SIZE, repeats: int = 30) -> float:
    """Best int8 GOP/s of `model` (from `int8_gemm_tflite`) with `threads` interpreter
    threads."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model, num_threads=threads)
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]
    interpreter.set_tensor(index, np.random.default_rng(1).standard_normal((rows, size),
                                                                           np.float32))
    interpreter.invoke()  # warm-up: XNNPACK packs the weights on the first call
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        interpreter.invoke()
        best = min(best, time.perf_counter() - started)
    return round(2.0 * rows * size * size / best / 1e9, 2)


def machine_facts(threads) -> dict:
    """CPU description and the measured matmul peak for each thread count."""
    logger.info("bench: measuring the float32 and int8 matmul peaks (threads: %s)",
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
    int8_model = int8_gemm_tflite()
    return {"cpu": cpu, "logical_cpus": os.cpu_count(),
            "matmul_peak_gflops": {str(t): matmul_peak_gflops(t) for t in threads},
            "peak_method": "numpy float32 matmul 1536x1536, best of 10, BLAS threads pinned "
                           "in a child process",
            "int8_matmul_peak_gops": {str(t): int8_matmul_peak_gops(t, int8_model)
                                      for t in threads},
            "int8_peak_method": f"TFLite dynamic-int8 FULLY_CONNECTED {INT8_ROWS}x{INT8_SIZE} "
                                f"by {INT8_SIZE}x{INT8_SIZE} (XNNPACK), best of 30"}


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
