"""Benchmark statistics: paired speed-up intervals, how busy the machine was, the report's
first line and its warnings."""

import subprocess
import sys
import time

import numpy as np

from albert_tf.bench.latency import interleaved_latency, ratio_interval
from albert_tf.bench.machine import load_snapshot, noise_summary
from albert_tf.bench.report import html_report, markdown


def test_a_paired_interval_sees_through_load_that_hits_both_timings():
    rng = np.random.default_rng(0)
    burst = rng.choice([1.0, 3.0], size=40)  # another job doubles some rounds' timings
    fast = 1.0 * burst * rng.uniform(0.98, 1.02, 40)
    slow = 4.0 * burst * rng.uniform(0.98, 1.02, 40)
    low, high = ratio_interval(slow, fast)
    assert 3.8 < low < 4.0 < high < 4.2
    # Unpaired (shuffling one side breaks the rounds' pairing), the interval is far wider.
    shuffled_low, shuffled_high = ratio_interval(slow, rng.permutation(fast))
    assert shuffled_high - shuffled_low > 5 * (high - low)


def test_interleaved_timings_keep_each_call_in_its_round_for_pairing():
    stats = interleaved_latency({"a": lambda: time.sleep(0.002), "b": lambda: None},
                                runs=6, warmup=1, rounds=3)
    assert len(stats["a"]["times_ms"]) == len(stats["b"]["times_ms"]) == 6
    low, high = ratio_interval(stats["a"]["times_ms"], stats["b"]["times_ms"])
    assert 1 < low <= high


def burn(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_other_processes_load_is_measured_and_makes_a_run_noisy():
    start = load_snapshot()
    busy = [subprocess.Popen([sys.executable, "-c",
                              "import time\nend = time.time() + 1.5\nwhile time.time() < end: "
                              "pass"]) for _ in range(4)]
    time.sleep(1.0)
    end = load_snapshot()
    for proc in busy:
        proc.wait()
    noise = noise_summary(start, end, cpus=2)
    assert noise["other_load_per_cpu"] > 0.5 and noise["noisy"]
    assert "other processes used" in noise["reasons"][0]


def other_load_while(work) -> float:
    start = load_snapshot()
    work()
    return noise_summary(start, load_snapshot(), cpus=2)["other_load_per_cpu"]


def test_this_process_own_work_does_not_count_as_noise():
    # Whatever else runs on the machine shows up alike while this process sleeps and while
    # it computes; its own computing must add nothing.
    idle = other_load_while(lambda: time.sleep(1.0))
    busy = other_load_while(lambda: burn(1.0))
    assert busy - idle < 0.25, (idle, busy)


def test_wide_speedup_intervals_make_a_run_noisy():
    start = load_snapshot()
    assert noise_summary(start, start | {"time": start["time"] + 1},
                         intervals=[(8.0, 7.9, 8.1)])["reasons"] == []
    wide = noise_summary(start, start | {"time": start["time"] + 1},
                         intervals=[(8.0, 5.0, 11.0)])
    assert wide["noisy"] and "8.00× [5.00, 11.00]" in wide["reasons"][0]
    text = markdown([results(noise={**wide, "loadavg_start": [0.1], "loadavg_end": [0.2],
                                    "other_load_per_cpu": 0.0, "steal_fraction": 0.0})])
    assert "time more calls (`--runs`, a recipe's `bench.latency_runs`) before quoting" in text
    assert "quiet machine" not in text  # the machine was idle: more calls, not another machine


def results(**changes):
    teacher = {"artifact": "teacher-float32.tflite", "kind": "tflite", "role": "teacher",
               "mode": "float32", "accuracy": 0.8, "size_bytes": 90_000_000,
               "latency": {"1": {"median_ms": 10.0, "p90_ms": 11.0, "achieved_gflops": 60.0}}}
    student = {"artifact": "model-dynamic-int8.tflite", "kind": "tflite", "role": "model",
               "mode": "dynamic-int8", "path": "/x/run/export/model-dynamic-int8.tflite",
               "accuracy": 0.78, "size_bytes": 6_000_000,
               "latency": {"1": {"median_ms": 1.0, "p90_ms": 1.1, "achieved_gflops": 300.0}},
               "speedup_vs_teacher_tflite": 10.0, "speedup_vs_teacher_tflite_interval": [9.5, 10.4],
               "paired_vs_tfidf": {"difference": 0.02, "low": 0.001, "high": 0.04,
                                   "examples": 400}}
    run = {"title": "t", "eval_examples": 400, "threads": [1], "onnx": "skipped",
           "machine": {"cpu": "x", "logical_cpus": 2, "matmul_peak_gflops": {"1": 50.0}},
           "gated_artifact": "model-dynamic-int8.tflite", "artifacts": [teacher, student],
           "baselines": [{"baseline": "majority class", "method": "always 'fresh'",
                          "accuracy": 0.58, "train_examples": 120, "train_seconds": 0.0},
                         {"baseline": "TF-IDF + LR", "method": "word + char n-grams",
                          "accuracy": 0.76, "train_examples": 120, "train_seconds": 0.1}],
           "gates": [{"gate": "min_retention", "value": 0.975, "limit": 0.97, "passed": True}],
           "noise": {"loadavg_start": [0.1, 0, 0], "loadavg_end": [1.9, 0, 0],
                     "other_load_per_cpu": 0.01, "steal_fraction": 0.0, "noisy": False,
                     "reasons": []}}
    run.update(changes)
    return run


def test_the_report_opens_with_what_to_ship_and_marks_that_row():
    text = markdown([results()])
    assert text.splitlines()[0] == (
        "**Ship `export/model-dynamic-int8.tflite`**: 6.00 MB, 10.00× [9.50, 10.40] faster "
        "than the teacher's float32 TFLite (1 thread), 97.5 % of the teacher's accuracy "
        "(0.7800 against 0.8000), +2.0 points over TF-IDF + LR.")
    assert "| model-dynamic-int8.tflite (shipped) | tflite |" in text
    assert "timing conditions: quiet; load average 0.1 at the start, 1.9 at the end" in text
    page = html_report([results()])
    assert '<p class="ship">Ship <code>export/model-dynamic-int8.tflite</code>' in page
    assert '<tr class="shipped"><td>model-dynamic-int8.tflite (shipped)</td>' in page


def test_a_failed_gate_ships_nothing_and_noise_is_flagged():
    run = results(gates=[{"gate": "min_retention", "value": 0.9, "limit": 0.97,
                          "passed": False}],
                  noise={"loadavg_start": [3.0, 0, 0], "loadavg_end": [3.5, 0, 0],
                         "other_load_per_cpu": 0.9, "steal_fraction": 0.0, "noisy": True,
                         "reasons": ["other processes used 0.90 of each CPU (limit 0.5)"]})
    text = markdown([run])
    assert text.splitlines()[0] == ("**Nothing to ship**: `export/model-dynamic-int8.tflite` "
                                    "failed its gates (min_retention).")
    assert "**NOISY** timings (other processes used 0.90 of each CPU" in text


def test_float_shares_above_the_peak_are_called_errors_and_int8_is_judged_by_its_own():
    text = markdown([results()])
    teacher_row = next(line for line in text.splitlines() if "teacher-float32" in line)
    student_row = next(line for line in text.splitlines() if "(shipped)" in line)
    assert "60.00 (120 %: measurement error)" in teacher_row
    assert "| 300.00 |" in student_row  # no int8 peak measured: no share, never float32's
    run = results()
    run["machine"]["int8_matmul_peak_gops"] = {"1": 1200.0}
    text = markdown([run])
    student_row = next(line for line in text.splitlines() if "(shipped)" in line)
    assert "| 300.00 (25 %) |" in student_row
    assert "int8 (TFLite dynamic-int8) matmul peak 1200 GOP/s (1 thr)" in text


def test_the_int8_peak_is_measured_with_tflite_dynamic_int8():
    from albert_tf.bench.machine import int8_gemm_tflite, int8_matmul_peak_gops

    model = int8_gemm_tflite(rows=8, size=128)
    assert int8_matmul_peak_gops(1, model, rows=8, size=128, repeats=3) > 0
    from albert_tf.deploy.tflite_ops import describe_ops

    ops = describe_ops(model)  # int8 weights, float activations: what dynamic-int8 files run
    assert ops["operators"][0]["op"] == "FULLY_CONNECTED"
    assert ops["compute_classes"] == {"hybrid": 1} and ops["tensor_types"]["INT8"] == 1


def test_points_on_the_same_spot_share_one_label():
    from albert_tf.bench.plots import point_labels

    points = [(0.10, 0.50), (0.80, 0.20), (0.105, 0.505), (0.81, 0.80)]
    assert point_labels(points, 1.0, 1.0) == [(0.10, 0.50, "1, 3"), (0.80, 0.20, "2"),
                                              (0.81, 0.80, "4")]


def test_one_latency_plot_per_thread_count_and_tensorflow_rows_only_in_their_own():
    import base64
    import re

    run = results()
    run["artifacts"][1]["latency"]["2"] = {"median_ms": 0.7, "p90_ms": 0.8,
                                           "achieved_gflops": 400.0}
    run["artifacts"].append({"artifact": "saved_model albert/1", "kind": "saved_model",
                             "role": "model", "accuracy": 0.78, "size_bytes": 24_000_000,
                             "latency": {"2": {"median_ms": 5.0, "p90_ms": 6.0,
                                               "achieved_gflops": 30.0}}})
    page = html_report([run])
    titles = re.findall(r'<img alt="([^"]+)"', page)
    assert titles == ["accuracy against latency, 1 thread", "accuracy against latency, 2 threads",
                      "accuracy against size"]
    for png in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    from albert_tf.bench.report import _plot_rows

    one = {r["label"]: r["latency"] for r in _plot_rows([run], "1")}
    assert one == {"teacher-float32.tflite": 10.0, "model-dynamic-int8.tflite": 1.0,
                   "saved_model albert/1": None}
