"""A peer baseline: the same classifier exported to ONNX and run by ONNX Runtime.

Needs the `onnx` extra (`pip install albert_tf[onnx]`: tf2onnx + onnxruntime). Without it the
report says "not installed" and the bench goes on. Two files: float32 (tf2onnx from the same
fixed-shape probabilities function the TFLite files are made from) and dynamic int8
(`onnxruntime.quantization.quantize_dynamic`: int8 weights, activations quantised per call,
the counterpart of TFLite's dynamic-int8).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

ONNX_MODES = ("float32", "dynamic-int8")


def onnx_missing() -> str | None:
    """None when tf2onnx and onnxruntime import; otherwise what is missing."""
    missing = [name for name in ("tf2onnx", "onnxruntime")
               if importlib.util.find_spec(name) is None]
    return None if not missing else f"not installed ({', '.join(missing)}; pip install " \
                                    "albert_tf[onnx])"


def export_onnx(model, folder, sequence_length: int, name: str = "model") -> dict:
    """Write `<name>-onnx-float32.onnx` and `<name>-onnx-dynamic-int8.onnx`; `{mode: path}`."""
    import tensorflow as tf
    import tf2onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from albert_tf.deploy.classifier_graph import probabilities_function, token_input_signature
    from albert_tf.deploy.tflite_export import write_atomic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    function = tf.function(probabilities_function(model),
                           input_signature=token_input_signature(sequence_length, 1))
    logger.info("bench: converting %s to ONNX", name)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=function.input_signature,
                                             opset=17)
    float_path = write_atomic(folder / f"{name}-onnx-float32.onnx", proto.SerializeToString())
    int8_path = folder / f"{name}-onnx-dynamic-int8.onnx"
    tmp = int8_path.with_name(f".{int8_path.name}.tmp")
    quantize_dynamic(str(float_path), str(tmp), weight_type=QuantType.QInt8)
    tmp.replace(int8_path)
    return {"float32": float_path, "dynamic-int8": int8_path}
