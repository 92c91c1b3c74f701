"""TF Serving warm-up requests: `assets.extra/tf_serving_warmup_requests`.

TF Serving replays the PredictionLog records in this TFRecord file when it loads a model
version, so the first real request does not pay for graph initialisation. Records are built
with tensorflow-serving-api's protos; `replay_warmup_requests` runs them against the
SavedModel's own signatures the way the server would, so a broken record is caught here rather
than in a server log.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

WARMUP_FOLDER = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"


def predict_log(model_name: str, signature_name: str, inputs: dict[str, np.ndarray]):
    """One `PredictionLog` holding a `PredictRequest` for `signature_name`.

    Args:
        model_name: the served model's name (as in models.config).
        signature_name: the SavedModel signature the request calls.
        inputs: input name -> numpy array (strings as `object` arrays of str or bytes).
    """
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name))
    for name, values in inputs.items():
        values = np.asarray(values)
        if values.dtype == object:
            values = np.asarray([v.encode("utf-8") if isinstance(v, str) else v
                                 for v in values.reshape(-1)], dtype=object).reshape(values.shape)
            proto = tf.make_tensor_proto(values, dtype=tf.string)
        else:
            proto = tf.make_tensor_proto(values)
        request.inputs[name].CopyFrom(proto)
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request))


def write_warmup_requests(version_dir, logs) -> Path:
    """Write PredictionLog records to `<version_dir>/assets.extra/tf_serving_warmup_requests`.

    Args:
        version_dir: the SavedModel folder of one model version.
        logs: `PredictionLog` messages.
    """
    import tensorflow as tf

    folder = Path(version_dir) / WARMUP_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / WARMUP_FILE
    tmp = folder / f".{WARMUP_FILE}.tmp-{os.getpid()}"
    with tf.io.TFRecordWriter(str(tmp)) as writer:
        for log in logs:
            writer.write(log.SerializeToString())
    os.replace(tmp, path)
    return path


def read_warmup_requests(version_dir) -> list:
    """The `PredictionLog` records of a model version's warm-up file."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = Path(version_dir) / WARMUP_FOLDER / WARMUP_FILE
    logs = []
    for record in tf.data.TFRecordDataset(str(path)):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    return logs


def replay_warmup_requests(version_dir) -> list[dict]:
    """Run every warm-up request against the SavedModel's signatures, as TF Serving would.

    Returns:
        One dict per record: signature, input shapes and output shapes.
    """
    import tensorflow as tf

    loaded = tf.saved_model.load(str(version_dir))
    results = []
    for log in read_warmup_requests(version_dir):
        request = log.predict_log.request
        signature = request.model_spec.signature_name or "serving_default"
        inputs = {name: tf.constant(tf.make_ndarray(proto))
                  for name, proto in request.inputs.items()}
        outputs = loaded.signatures[signature](**inputs)
        results.append({
            "signature": signature,
            "inputs": {name: list(t.shape) for name, t in inputs.items()},
            "outputs": {name: list(t.shape) for name, t in outputs.items()},
        })
    return results
