"""Measure a set of artifacts in one run: accuracy, size, latency, FLOP/s, memory.

The one implementation behind `albert-tf bench`, `albert-tf report`'s inputs and the recipe's
report stage. Every figure comes from running the artifact itself; latency is timed with all
artifacts interleaved (`interleaved_latency`), so a burst of load from another job on a
shared machine hits every row alike.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from albert_tf.bench.artifacts import (
    Artifact,
    gzip_size,
    is_tensorflow_runtime,
    open_predictor,
    size_on_disk,
    tensorflow_threads,
)
from albert_tf.bench.flops import count_flops, encoder_shape
from albert_tf.bench.latency import interleaved_latency, ratio_interval
from albert_tf.bench.machine import load_snapshot, noise_summary
from albert_tf.bench.memory import peak_memory
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class BenchConfig:
    """How artifacts are measured.

    Args:
        threads: thread counts for ai-edge-litert / ONNX Runtime (TensorFlow runs with its
            own pool: all cores).
        batch_sizes, sequence_lengths: latency grid; `sequence_lengths=None` uses each
            model's own length. Fixed-shape files are timed at their own shape only.
        runs, warmup: timed and untimed calls per artifact, thread count and shape.
        memory: measure peak memory (a child process per artifact).
        real_length_examples: examples timed at real length vs padded (0: skip).
        onnx: add the ONNX Runtime baseline when the `onnx` extra is installed.
        peak: measure the machine's matmul peak.
    """

    threads: list[int] = dataclasses.field(default_factory=lambda: [1, 2])
    batch_sizes: list[int] = dataclasses.field(default_factory=lambda: [1])
    sequence_lengths: list[int] | None = None
    runs: int = 20
    warmup: int = 3
    memory: bool = True
    real_length_examples: int = 32
    onnx: bool = True
    peak: bool = True

    def __post_init__(self):
        for name in ("threads", "batch_sizes", "sequence_lengths"):
            values = getattr(self, name)
            if values is not None and (not values or min(values) < 1):
                raise UserError(f"{name} must be a non-empty list of integers >= 1. "
                                f"Received: {values}")
        if self.runs < 1 or self.warmup < 0 or self.real_length_examples < 0:
            raise UserError("runs must be >= 1, warmup and real_length_examples >= 0. "
                            f"Received: runs={self.runs}, warmup={self.warmup}, "
                            f"real_length_examples={self.real_length_examples}")


def check_made_from(artifact, parameters: int) -> None:
    """Refuse a `.tflite` file whose export report (`<file>.json`) says it was made from a
    model of another size than `artifact.model_dir`: that folder's tokenizer would pack its
    inputs and its parameter count would stand in the file's row."""
    import json

    if artifact.kind != "tflite":
        return
    report = artifact.path.with_name(artifact.path.name + ".json")
    try:
        recorded = json.loads(report.read_text()).get("parameters") if report.is_file() else None
    except (OSError, ValueError):
        recorded = None
    if recorded is not None and int(recorded) != int(parameters):
        raise UserError(f"{artifact.path.name} was exported from a model with {int(recorded):,} "
                        f"parameters, but {artifact.model_dir} has {int(parameters):,}: give the "
                        "model folder the file was made from")


class _Models:
    """Each Keras classifier loaded once: packing, parameters, FLOPs."""

    def __init__(self, examples):
        self.examples = examples
        self._cache = {}

    def get(self, folder: Path) -> dict:
        folder = Path(folder)
        if folder not in self._cache:
            from albert_tf.deploy.classifier_graph import pack_texts
            from albert_tf.models import count_parameters, load_classifier

            if not (folder / "task.json").is_file():
                raise UserError(f"not a saved classifier folder: {folder}")
            model = load_classifier(folder)
            packed = pack_texts(model, self.examples.texts, self.examples.pairs)
            self._cache[folder] = {
                "model": model, "packed": packed, "shape": encoder_shape(model),
                "length": int(model.preprocessor.sequence_length),
                "parameters": count_parameters(model)["parameters"]}
        return self._cache[folder]


def _accuracy(probabilities, examples) -> tuple[dict, np.ndarray]:
    """Accuracy, macro-F1 and expected calibration error, and whether each example was right
    (for paired comparisons)."""
    from albert_tf.classification_metrics import classification_report

    report = classification_report(examples.labels, probabilities, examples.label_names)
    correct = np.asarray(probabilities).argmax(axis=-1) == examples.labels
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
            "ece": report["ece"]}, correct


def _add_baselines(result: dict, rows: list[dict], correct: list[np.ndarray], train,
                   examples) -> None:
    """Baseline rows trained on `train`, and each artifact's paired difference against
    TF-IDF + LR on the same examples."""
    from albert_tf.bench.baselines import classification_baselines, paired_difference

    logger.info("bench: baselines trained on %d training examples, scored on %d",
                len(train), len(examples))
    baselines = classification_baselines(train, examples)
    result["baselines"] = [baseline.to_json() for baseline in baselines]
    tfidf = baselines[-1]
    for row, right in zip(rows, correct):
        row["paired_vs_tfidf"] = paired_difference(right, tfidf.correct).to_json()


def _keras_copy(folder: Path):
    from albert_tf.models import load_classifier

    model = load_classifier(folder)
    model.preprocessor = None  # timed on packed tensors, like every other artifact
    return model


def _onnx_artifacts(model_info: dict, artifact: Artifact, work_dir: Path) -> list[Artifact]:
    from albert_tf.bench.onnx_baseline import export_onnx

    paths = export_onnx(model_info["model"], work_dir / "onnx", model_info["length"])
    return [Artifact(name=path.name, kind="onnx", path=path, model_dir=artifact.model_dir,
                     mode=mode) for mode, path in paths.items()]


def _real_length(artifacts, models, config, work_dir) -> list[dict]:
    from albert_tf.bench.real_length import (
        DYNAMIC_MODES,
        export_dynamic_length_tflite,
        real_length_latency,
    )

    results = []
    for artifact in artifacts:
        if artifact.kind != "tflite" or artifact.role != "model" \
                or artifact.mode not in DYNAMIC_MODES:
            continue
        info = models.get(artifact.model_dir)
        dynamic = work_dir / "dynamic-length" / f"{artifact.path.stem}-dynamic-length.tflite"
        logger.info("bench: real length: converting %s with a resizable sequence dimension",
                    artifact.name)
        export_dynamic_length_tflite(info["model"], dynamic, artifact.mode)
        count = min(config.real_length_examples, len(info["packed"]["token_ids"]))
        packed = {k: v[:count] for k, v in info["packed"].items()}
        logger.info("bench: real length vs padding: %s, %d examples", artifact.name, count)
        result = real_length_latency(artifact.path, dynamic, packed, config.threads[0])
        results.append({"artifact": artifact.name, "dynamic_file": str(dynamic), **result})
    return results


def run_bench(artifacts: list[Artifact], examples, config: BenchConfig, work_dir,
              title: str = "bench", train=None) -> dict:
    """Measure `artifacts` on labelled `examples`; returns the results (see `bench.report`).

    Args:
        artifacts: what to measure; rows keep this order (ONNX baselines are appended).
        examples: labelled examples (the test split or a subset): accuracy, and the inputs
            that latency is timed on.
        config: `BenchConfig`.
        work_dir: where files the bench itself makes go (dynamic-length TFLite, ONNX).
        title: the report's heading.
        train: the training split the models learned from: when given, the majority-class
            and TF-IDF + LR baselines are trained on it and scored on `examples`, and every
            artifact gets its paired difference against TF-IDF + LR (`bench.baselines`).
    """
    if not artifacts:
        raise UserError("nothing to measure: no artifacts given or found")
    started, load_at_start = time.perf_counter(), load_snapshot()
    work_dir = Path(work_dir)
    models = _Models(examples)
    result = {"title": title, "eval_examples": len(examples),
              "config": dataclasses.asdict(config), "threads": list(config.threads)}
    if config.peak:
        from albert_tf.bench.machine import machine_facts

        result["machine"] = machine_facts(config.threads)
    artifacts = list(artifacts)
    if config.onnx:
        from albert_tf.bench.onnx_baseline import onnx_missing

        missing = onnx_missing()
        result["onnx"] = missing or "measured"
        shipped = next((a for a in artifacts if a.role == "model"), None)
        if missing is None and shipped is not None:
            try:
                artifacts += _onnx_artifacts(models.get(shipped.model_dir), shipped, work_dir)
            except Exception as exc:  # a converter failure must not sink the whole bench
                logger.warning("ONNX baseline failed: %s", exc)
                result["onnx"] = f"failed: {exc}"
    else:
        result["onnx"] = "skipped"
    tf_threads = tensorflow_threads() if any(is_tensorflow_runtime(a.kind)
                                             for a in artifacts) else None
    rows, calls, correct = [], {}, []
    for artifact in artifacts:
        info = models.get(artifact.model_dir)
        check_made_from(artifact, info["parameters"])
        logger.info("bench: %s: accuracy on %d examples", artifact.name, len(examples))
        keras_model = _keras_copy(artifact.model_dir) if artifact.kind == "keras" else None
        thread_counts = [tf_threads] if is_tensorflow_runtime(artifact.kind) \
            else list(config.threads)
        predictors = {t: open_predictor(artifact, t, keras_model) for t in thread_counts}
        first = predictors[thread_counts[0]]
        scores, right = _accuracy(first.predict(info["packed"]), examples)
        correct.append(right)
        row = {"artifact": artifact.name, "kind": artifact.kind, "role": artifact.role,
               "mode": artifact.mode, "path": str(artifact.path), **scores,
               "parameters": info["parameters"],
               "size_bytes": size_on_disk(artifact.path),
               "gzip_bytes": gzip_size(artifact.path)}
        lengths = config.sequence_lengths or [info["length"]]
        points = [(b, s) for b in config.batch_sizes for s in lengths]
        if getattr(first, "shape", None) is not None:
            points = [first.shape]  # a fixed-shape file runs at its own shape only
        row["primary_shape"] = list((1, info["length"]) if (1, info["length"]) in points
                                    else points[0])
        row["grid"] = []
        for batch, length in points:
            flops = count_flops(info["shape"], length, batch)["total"]
            for threads, predictor in predictors.items():
                call = predictor.call_for(info["packed"], batch, length)
                if call is None:
                    continue
                key = (artifact.name, batch, length, threads)
                calls[key] = call
                row["grid"].append({"batch_size": batch, "sequence_length": length,
                                    "threads": threads, "flops": flops, "_key": key})
        rows.append((artifact, row))
    logger.info("bench: timing %d artifact / shape / thread combinations, interleaved, "
                "%d runs each", len(calls), config.runs)
    timings = interleaved_latency(calls, config.runs, config.warmup)
    peak = (result.get("machine") or {}).get("matmul_peak_gflops", {})
    for artifact, row in rows:
        row["latency"] = {}
        for point in row["grid"]:
            stats = dict(timings[point.pop("_key")])
            times = stats.pop("times_ms")  # kept for the primary shape's speed-up intervals
            point.update(stats)
            point["achieved_gflops"] = round(point["flops"] / stats["median_ms"] / 1e6, 2)
            if str(point["threads"]) in peak:
                point["fraction_of_peak"] = round(
                    point["achieved_gflops"] / peak[str(point["threads"])], 3)
            if [point["batch_size"], point["sequence_length"]] == row["primary_shape"]:
                row["latency"][str(point["threads"])] = {
                    **{k: point[k] for k in ("median_ms", "p90_ms", "p99_ms", "runs",
                                             "achieved_gflops")}, "times_ms": times}
                row["flops"] = point["flops"]
        if config.memory:
            logger.info("bench: %s: peak memory (child process)", artifact.name)
            memory_path = artifact.model_dir if artifact.kind == "keras" else artifact.path
            batch, length = row["primary_shape"]
            row["memory"] = peak_memory(artifact.kind, memory_path, max(config.threads),
                                        batch, length)
    rows = [row for _, row in rows]
    _compare_with_teacher(rows, config.threads)
    if train is not None:
        _add_baselines(result, rows, correct, train, examples)
    result["artifacts"] = rows
    if config.real_length_examples:
        result["real_length"] = _real_length(artifacts, models, config, work_dir)
    intervals = [(row["speedup_vs_teacher_tflite"], *row["speedup_vs_teacher_tflite_interval"])
                 for row in rows if "speedup_vs_teacher_tflite_interval" in row]
    result["noise"] = noise_summary(load_at_start, load_snapshot(), intervals=intervals)
    if result["noise"]["noisy"]:
        logger.warning("bench: timings are noisy: %s", "; ".join(result["noise"]["reasons"]))
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def _median(row, threads):
    entry = (row.get("latency") or {}).get(str(threads))
    return None if entry is None else entry["median_ms"]


def _speedup(reference: dict, ref_threads, row: dict, threads) -> dict | None:
    """Median speed-up of `row` over `reference` and its paired 95 % interval."""
    ref = (reference.get("latency") or {}).get(str(ref_threads))
    mine = (row.get("latency") or {}).get(str(threads))
    if not ref or not mine or not mine["median_ms"]:
        return None
    value = {"value": round(ref["median_ms"] / mine["median_ms"], 3)}
    if len(ref.get("times_ms", [])) == len(mine.get("times_ms", [])) > 1:
        low, high = ratio_interval(ref["times_ms"], mine["times_ms"])
        value.update(low=round(low, 3), high=round(high, 3))
    return value


def teacher_references(rows: list[dict]) -> tuple[dict | None, dict | None]:
    """The teacher's SavedModel row and float32 TFLite row (either may be None). Accuracy is
    judged against the first that exists (the gates' retention, the report's first line),
    speed against each."""
    saved_model = next((r for r in rows if r.get("role") == "teacher"
                        and r.get("kind") == "saved_model"), None)
    tflite = next((r for r in rows if r.get("role") == "teacher" and r.get("kind") == "tflite"
                   and r.get("mode") in ("float32", None)), None)
    return saved_model, tflite


def _compare_with_teacher(rows: list[dict], threads) -> None:
    """Accuracy change and speed-ups against the teacher's SavedModel and float32 TFLite.

    Against the SavedModel (TensorFlow, all cores) each row is compared at that same thread
    count where it has one, else at its largest; against the teacher's TFLite at the first
    thread count (what the recipe's `min_speedup` gate judges).
    """
    teacher_sm, teacher_tfl = teacher_references(rows)
    reference = teacher_sm or teacher_tfl
    for row in rows:
        is_reference = row is teacher_tfl
        if reference is not None:
            row["accuracy_change"] = round(row["accuracy"] - reference["accuracy"], 4)
        if teacher_sm is not None and teacher_sm.get("latency"):
            sm_threads = next(iter(teacher_sm["latency"]))
            mine = sm_threads if _median(row, sm_threads) else (
                max((int(t) for t in row.get("latency") or {}), default=None))
            speedup = None if mine is None else _speedup(teacher_sm, sm_threads, row, mine)
            if speedup:
                row["speedup_vs_teacher_saved_model"] = speedup["value"]
                if "low" in speedup:
                    row["speedup_vs_teacher_saved_model_interval"] = [speedup["low"], speedup["high"]]
        if is_reference and _median(row, threads[0]):
            row["speedup_vs_teacher_tflite"] = 1.0  # itself: no interval to give
        elif teacher_tfl is not None:
            speedup = _speedup(teacher_tfl, threads[0], row, threads[0])
            if speedup:
                row["speedup_vs_teacher_tflite"] = speedup["value"]
                if "low" in speedup:
                    row["speedup_vs_teacher_tflite_interval"] = [speedup["low"], speedup["high"]]
