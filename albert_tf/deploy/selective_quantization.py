"""Selective int8 quantization: keep the most error-prone ops in float until accuracy holds.

1. Per-op sensitivity comes from TFLite's `QuantizationDebugger`: it builds a full-integer
   debug model in which every quantized op's output is compared with the float op's output
   on the same input (NumericVerify ops), and reports per-tensor error statistics. Ops are
   ranked by `rmse / scale` (quantization error in units of the tensor's quantization step,
   the measure TFLite's guide uses).
2. The full-int8 model is scored on the evaluation examples (the dev split: the test split
   stays untouched for the final measurement); while its accuracy is more than
   `max_accuracy_drop` below the float32 TFLite model's, the top-k ops are denylisted
   (`QuantizationDebugOptions(denylisted_nodes=...)`) with k doubling, and the model is scored
   again.
3. The result records which ops stayed float and what that cost in size and latency against
   the full-int8 and float32 models.

Why the debugger's statistics can come back empty (DESIGN.md saw a CSV with only its header on
a tiny keras-hub ALBERT): the debugger calls `debug_dataset()` again for every pass and rows
only come from examples it actually runs. A `debug_dataset` that returns a one-shot iterator
(for instance the same generator object that calibration already consumed) yields nothing,
so `layer_statistics` stays empty without any error. With a fresh generator per call, in the
input order of the interpreter (`get_input_details()`; for these models segment_ids,
token_ids, padding_mask, not the signature's alphabetical order), the frozen fixed-shape ALBERT
gives one row per quantized tensor. Only calibrated full-integer models have these statistics:
a dynamic-range model quantizes no activations, so there is nothing to compare.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
from pathlib import Path

import numpy as np

from albert_tf.deploy.classifier_graph import TOKEN_INPUT_NAMES, pack_texts
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class SelectiveQuantizationConfig:
    """How far selective quantization may go.

    Args:
        max_accuracy_drop: allowed accuracy loss against the float32 TFLite model on the
            evaluation examples (0.01 = one point).
        min_float_ops: the most sensitive ops always kept in float (0: start from full int8).
        first_step: ops kept in float in the first denylisting round; doubled each round.
        max_float_ops: stop after this many ops are kept in float.
        calibration_samples: training examples used to calibrate.
        debug_samples: training examples the debugger compares float and int8 ops on.
    """

    max_accuracy_drop: float = 0.01
    min_float_ops: int = 0
    first_step: int = 2
    max_float_ops: int = 64
    calibration_samples: int = 100
    debug_samples: int = 16

    def validate(self) -> SelectiveQuantizationConfig:
        if not 0 <= self.max_accuracy_drop < 1:
            raise UserError(f"max_accuracy_drop must be in [0, 1). "
                            f"Received: {self.max_accuracy_drop}")
        if self.min_float_ops < 0:
            raise UserError(f"min_float_ops must be >= 0. Received: {self.min_float_ops}")
        for name in ("first_step", "max_float_ops", "calibration_samples", "debug_samples"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be >= 1. Received: {getattr(self, name)}")
        return self


def layer_sensitivity(debugger) -> list[dict]:
    """Rows of the debugger's per-tensor statistics, most sensitive first.

    Each row: `op_name`, `tensor_name`, `rmse_over_scale`, `mean_squared_error`, `scale`.
    """
    buffer = io.StringIO()
    debugger.layer_statistics_dump(buffer)
    rows = []
    for row in csv.DictReader(io.StringIO(buffer.getvalue())):
        scale = float(row["scale"])
        mse = float(row["mean_squared_error"])
        rows.append({
            "op_name": row["op_name"],
            "tensor_name": row["tensor_name"],
            "mean_squared_error": mse,
            "scale": scale,
            "rmse_over_scale": math.sqrt(mse) / scale if scale > 0 else math.inf,
        })
    rows.sort(key=lambda r: r["rmse_over_scale"], reverse=True)
    return rows


def _accuracy(content: bytes, packed: dict, labels: np.ndarray) -> float:
    from albert_tf.deploy.tflite_runner import TFLiteRunner

    probabilities = TFLiteRunner(content).predict_packed(packed)
    return float(np.mean(probabilities.argmax(-1) == labels))


def _latency_ms(content: bytes, packed: dict, runs: int = 20) -> float:
    from albert_tf.deploy.tflite_runner import TFLiteRunner

    runner = TFLiteRunner(content)
    return runner.median_latency_ms({n: packed[n][:runner.batch_size] for n in TOKEN_INPUT_NAMES},
                                    runs)


def _input_order(float_content: bytes) -> list[str]:
    """Signature input names in the order the interpreter lists its input tensors."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=float_content)
    runner_inputs = interpreter.get_signature_runner().get_input_details()
    by_index = {detail["index"]: name for name, detail in runner_inputs.items()}
    return [by_index[detail["index"]] for detail in interpreter.get_input_details()]


def selective_int8(model, path, representative_data, eval_examples, *,
                   config: SelectiveQuantizationConfig | None = None, label_names=None) -> dict:
    """Write an int8 `.tflite` whose most sensitive ops stay float until accuracy holds.

    Args:
        model: a keras-hub `TextClassifier` with its preprocessor.
        path: the `.tflite` file to write.
        representative_data: training-split examples (calibration and debugging).
        eval_examples: labelled examples the accuracy budget is checked on (the dev split).
        config: `SelectiveQuantizationConfig`.
        label_names: class names in id order.

    Returns:
        A report (also written to `<path>.json`): sensitivity ranking, the rounds tried, the
        ops kept in float, and accuracy / size / latency of float32, full int8 and the result.
    """
    import tensorflow as tf

    from albert_tf.deploy.tflite_export import (
        TFLiteExportConfig,
        convert_to_tflite,
        report_path,
        representative_inputs,
        tflite_converter,
        write_atomic,
    )
    from albert_tf.deploy.tflite_ops import describe_ops
    from albert_tf.json_files import write_json

    config = (config or SelectiveQuantizationConfig()).validate()
    if not getattr(eval_examples, "label_names", None):
        raise UserError("selective quantization needs labelled evaluation examples (dev split)")
    eval_packed = pack_texts(model, eval_examples.texts, getattr(eval_examples, "pairs", None))
    labels = np.asarray(eval_examples.labels)

    float_content, _ = convert_to_tflite(model, TFLiteExportConfig(mode="float32"),
                                         label_names=label_names)
    float_accuracy = _accuracy(float_content, eval_packed, labels)
    order = _input_order(float_content)
    debug_inputs = representative_inputs(model, representative_data, config.debug_samples, seed=1)

    def debug_dataset():  # a fresh generator per pass, lists in interpreter input order
        for i in range(len(debug_inputs[TOKEN_INPUT_NAMES[0]])):
            yield [debug_inputs[name][i:i + 1] for name in order]

    int8_config = TFLiteExportConfig(mode="int8", calibration_samples=config.calibration_samples)
    with tflite_converter(model, int8_config, representative_data, label_names) as (converter,
                                                                                     facts):
        logger.info("calibrating and measuring per-op quantization error")
        debugger = tf.lite.experimental.QuantizationDebugger(converter=converter,
                                                             debug_dataset=debug_dataset)
        debugger.run()
        ranking = layer_sensitivity(debugger)
        if not ranking:
            raise UserError("the quantization debugger returned no per-op statistics; "
                            "cannot rank ops for selective quantization")
        full_content = debugger.get_nondebug_quantized_model()

        def quantize_keeping(k):
            if k == 0:
                return full_content, []
            nodes = [row["tensor_name"] for row in ranking[:k]]
            debugger.options = tf.lite.experimental.QuantizationDebugOptions(
                denylisted_nodes=nodes)
            return debugger.get_nondebug_quantized_model(), nodes

        limit = min(len(ranking), config.max_float_ops)
        k = min(config.min_float_ops, limit)
        rounds = []
        while True:
            chosen, chosen_nodes = quantize_keeping(k)
            rounds.append({"float_ops": k, "accuracy": _accuracy(chosen, eval_packed, labels),
                           "size_bytes": len(chosen)})
            logger.info("%d ops in float: accuracy %.4f (float32 TFLite %.4f)", k,
                        rounds[-1]["accuracy"], float_accuracy)
            if float_accuracy - rounds[-1]["accuracy"] <= config.max_accuracy_drop or k >= limit:
                break
            k = min(max(config.first_step, 2 * k), limit)
        full_accuracy = rounds[0]["accuracy"] if rounds[0]["float_ops"] == 0 else \
            _accuracy(full_content, eval_packed, labels)
    path = write_atomic(Path(path), chosen)
    kept = [row for row in ranking if row["tensor_name"] in set(chosen_nodes)]
    final_accuracy = rounds[-1]["accuracy"]
    result = {
        "artifact": "tflite",
        "path": str(path),
        **{key: facts[key] for key in ("mode", "io_type", "signatures", "classifier",
                                       "calibration_samples")},
        "selective": True,
        "max_accuracy_drop": config.max_accuracy_drop,
        "budget_met": float_accuracy - final_accuracy <= config.max_accuracy_drop,
        "evaluation_examples": int(len(labels)),
        "sensitivity": ranking,
        "rounds": rounds,
        "denylisted_nodes": chosen_nodes,
        "ops_kept_float": [{"op_name": r["op_name"], "tensor_name": r["tensor_name"],
                            "rmse_over_scale": r["rmse_over_scale"]} for r in kept],
        "comparison": {
            "float32": {"accuracy": float_accuracy, "size_bytes": len(float_content),
                        "latency_ms_median": _latency_ms(float_content, eval_packed)},
            "int8_full": {"accuracy": full_accuracy, "size_bytes": len(full_content),
                          "latency_ms_median": _latency_ms(full_content, eval_packed)},
            "int8_selective": {"accuracy": final_accuracy, "size_bytes": len(chosen),
                               "latency_ms_median": _latency_ms(chosen, eval_packed)},
        },
        "size_bytes": len(chosen),
        "ops": describe_ops(chosen),
    }
    write_json(result, report_path(path))
    return result
