"""Latency at each input's real token length against latency with fixed padding.

The shipped `.tflite` files have a fixed `[1, sequence_length]` signature: every review is
padded to the full length. Here the same classifier is converted once more with a dynamic
sequence dimension (`[1, None]`); ai-edge-litert's signature runner resizes the inputs to each
call's shape (`resize_tensor_input` + `allocate_tensors` inside), so each example runs with
only its real tokens. Checked on this stack: the outputs equal the padded model's (the padding
mask already hides padding), at the price of some shape arithmetic in the graph (SHAPE,
GATHER, ...; see DESIGN.md). Length buckets would need one file per bucket; one resizable
file is simpler and serves every length.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from albert_tf.bench.artifacts import TOKEN_INPUT_NAMES
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

DYNAMIC_MODES = ("float32", "float16", "dynamic-int8")


def export_dynamic_length_tflite(model, path, mode: str = "float32") -> Path:
    """Convert `model` to a `.tflite` whose token inputs are `[1, None]` (resizable).

    Args:
        model: a keras-hub text classifier.
        path: the file to write (atomically).
        mode: "float32", "float16" or "dynamic-int8" (calibrated modes need fixed shapes).
    """
    import tempfile

    import tensorflow as tf

    from albert_tf.deploy.classifier_graph import probabilities_function
    from albert_tf.deploy.frozen_graph import frozen_function
    from albert_tf.deploy.tflite_export import write_atomic

    if mode not in DYNAMIC_MODES:
        raise UserError(f"a dynamic-length TFLite model supports modes {DYNAMIC_MODES}. "
                        f"Received: {mode!r}")
    probabilities = probabilities_function(model)
    signature = [tf.TensorSpec([1, None], tf.int32, name=name) for name in TOKEN_INPUT_NAMES]

    def classify(token_ids, segment_ids, padding_mask):
        return {"probabilities": probabilities(token_ids, segment_ids, padding_mask)}

    concrete, _ = frozen_function(classify, signature, ())
    module = tf.Module()
    module.serving_default = tf.function(lambda *args: concrete(*args),
                                         input_signature=signature)
    with tempfile.TemporaryDirectory(prefix="albert_tf_dynamic_") as tmp:
        tf.saved_model.save(module, tmp, signatures={"serving_default": module.serving_default})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if mode != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "float16":
            converter.target_spec.supported_types = [tf.float16]
        content = converter.convert()
    return write_atomic(Path(path), content)


def real_lengths(packed: dict) -> np.ndarray:
    """Real tokens per example (the padding mask's sum, at least 1)."""
    return np.maximum(np.asarray(packed["padding_mask"]).sum(axis=1), 1).astype(int)


def real_length_latency(fixed_path, dynamic_path, packed: dict, threads: int = 1,
                        rounds: int = 3) -> dict:
    """Per-example latency over `packed` (batch 1): padded to the fixed length vs. real length.

    The two interpreters take turns, a whole pass over the examples each, `rounds` times; the
    per-example times are pooled.

    Returns:
        `{"examples", "padded_length", "mean_real_length", "fixed": stats, "real": stats,
        "speedup", "max_probability_difference"}`; stats hold median / p90 / mean ms.
    """
    from ai_edge_litert.interpreter import Interpreter

    def signature(path):
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        return interpreter, interpreter.get_signature_runner("serving_default")

    _, fixed = signature(fixed_path)
    _, dynamic = signature(dynamic_path)
    fixed_details = fixed.get_input_details()
    padded_length = int(fixed_details["token_ids"]["shape"][1])
    if int(fixed_details["token_ids"]["shape"][0]) != 1:
        raise UserError(f"{fixed_path}: real-length timing needs a batch-1 model")
    n = len(packed["token_ids"])
    lengths = np.minimum(real_lengths(packed), padded_length)
    padded = [{k: packed[k][i:i + 1, :padded_length].astype(fixed_details[k]["dtype"])
               for k in TOKEN_INPUT_NAMES} for i in range(n)]
    trimmed = [{k: np.ascontiguousarray(packed[k][i:i + 1, :lengths[i]].astype(np.int32))
                for k in TOKEN_INPUT_NAMES} for i in range(n)]
    # Warm-up, and the check that trimming changes no answer.
    difference = 0.0
    for i in range(n):
        a = fixed(**padded[i])["probabilities"]
        b = dynamic(**trimmed[i])["probabilities"]
        difference = max(difference, float(np.abs(np.asarray(a, np.float32) - b).max()))
    times = {"fixed": [], "real": []}
    for _ in range(rounds):
        for key, runner, feeds in (("fixed", fixed, padded), ("real", dynamic, trimmed)):
            for feed in feeds:
                started = time.perf_counter()
                runner(**feed)
                times[key].append((time.perf_counter() - started) * 1000.0)

    def stats(values):
        values = np.asarray(values)
        return {"median_ms": round(float(np.median(values)), 3),
                "p90_ms": round(float(np.percentile(values, 90)), 3),
                "mean_ms": round(float(values.mean()), 3)}

    result = {"examples": n, "threads": threads, "padded_length": padded_length,
              "mean_real_length": round(float(lengths.mean()), 2),
              "fixed": stats(times["fixed"]), "real": stats(times["real"]),
              "max_probability_difference": round(difference, 6)}
    result["speedup"] = round(result["fixed"]["mean_ms"] / result["real"]["mean_ms"], 3)
    return result
