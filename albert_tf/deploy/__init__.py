"""Deployable artifacts: TFLite in every precision mode, SavedModels for TF Serving, checks.

One verb per artifact, formats and modes as parameters:

* `export_tflite(model, path, mode=..., representative_data=...)`: float32, float16,
  dynamic-int8, int8 (full integer, float or int8 output), int16x8; token ids or raw text in.
* `selective_int8(model, path, train, dev)`: int8 with the most error-prone ops kept in float
  until an accuracy budget holds.
* `export_saved_model(model, dir, model_name, version)`: TF Serving layout, raw-text and token
  signatures, warm-up requests, models.config; optionally Keras int8 weights.
* `evaluate_tflite` / `evaluate_saved_model`: accuracy measured by running the artifact.
* `runtime_compatibility(path)`: operators, versions, and whether ai-edge-litert and
  tflite-runtime 2.14 run the file (checked by running it).

Every export returns a JSON-serialisable dict and writes it beside the artifact.
"""

from albert_tf.deploy.artifact_eval import evaluate_saved_model, evaluate_tflite
from albert_tf.deploy.parity import PARITY_TEXTS, tokenization_parity
from albert_tf.deploy.runtime_compat import runtime_compatibility
from albert_tf.deploy.saved_model_export import export_saved_model
from albert_tf.deploy.selective_quantization import SelectiveQuantizationConfig, selective_int8
from albert_tf.deploy.tflite_export import TFLITE_MODES, TFLiteExportConfig, export_tflite
from albert_tf.deploy.tflite_ops import describe_ops
from albert_tf.deploy.tflite_runner import TFLiteRunner

__all__ = [
    "PARITY_TEXTS",
    "SelectiveQuantizationConfig",
    "TFLITE_MODES",
    "TFLiteExportConfig",
    "TFLiteRunner",
    "describe_ops",
    "evaluate_saved_model",
    "evaluate_tflite",
    "export_saved_model",
    "export_tflite",
    "runtime_compatibility",
    "selective_int8",
    "tokenization_parity",
]
