"""Measure artifacts and report them: latency, FLOPs, machine peak, memory, accuracy, plots.

* `latency`: warm-up then median / p90 / p99; interleaved timing of many calls; A/B ratios.
* `flops`: matrix-product FLOPs counted from the model configuration.
* `machine`: this machine's float32 matmul peak per thread count.
* `memory`: peak resident memory of running one artifact (child process).
* `artifacts`: what an artifact is and how each runtime runs it; size and gzip size.
* `real_length`: resizable-length TFLite, real token length against fixed padding.
* `onnx_baseline`: ONNX Runtime float / dynamic int8 (the `onnx` extra).
* `baselines`: majority class, TF-IDF + logistic regression, majority / most-frequent tag,
  trained on the run's training split; paired bootstrap differences against a model.
* `measure`: `run_bench(artifacts, examples, BenchConfig(...), work_dir)`, the one
  implementation behind `albert-tf bench` and the classification recipe's report stage.
* `tagging_measure`: `measure_taggers(...)`, a token classifier's artifacts scored on tagged
  sentences and timed interleaved (the tagging recipe's report stage).
* `run_folder`: the artifacts of a recipe run folder.
* `pareto`, `plots`, `report`: Pareto front, PNG plots, results.json / report.md /
  report.html for every task (one run or several side by side).
"""

from albert_tf.bench.artifacts import Artifact
from albert_tf.bench.flops import count_flops, encoder_shape, model_flops
from albert_tf.bench.latency import interleaved_latency, latency_stats, median_ratio
from albert_tf.bench.measure import BenchConfig, run_bench
from albert_tf.bench.pareto import pareto_front
from albert_tf.bench.report import write_report

__all__ = ["Artifact", "BenchConfig", "count_flops", "encoder_shape", "interleaved_latency",
           "latency_stats", "median_ratio", "model_flops", "pareto_front", "run_bench",
           "write_report"]
