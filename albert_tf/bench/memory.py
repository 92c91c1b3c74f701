"""Peak resident memory of running one artifact, measured in a child process.

Why a child: the peak RSS is a high-water mark of a whole process, and this process already
holds TensorFlow, the Keras models and every other artifact. A fresh Python imports only the
runtime the artifact needs (ai-edge-litert for `.tflite`, TensorFlow for a SavedModel, Keras
for the Keras model, ONNX Runtime for `.onnx`), reads its peak RSS (runtime alone), loads the
artifact, runs a few calls and reads it again. Both numbers are reported: the peak is what a
deployment needs, the difference is what the model itself adds on top of its runtime.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys

logger = logging.getLogger(__name__)

TOKEN_INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def _rss_mb() -> float:
    """Peak RSS of this process so far, in MB.

    VmHWM first: Linux carries `ru_maxrss` across fork + exec, so a child of a 1 GB parent
    would report 1 GB before doing anything; VmHWM belongs to the new address space.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _inputs(batch: int, length: int, dtype="int32") -> dict:
    import numpy as np

    ones = np.ones((batch, length), dtype)
    return {"token_ids": ones, "segment_ids": np.zeros_like(ones), "padding_mask": ones}


def _child(kind: str, path: str, threads: int, batch: int, length: int, calls: int) -> dict:
    if kind == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        before = _rss_mb()
        interpreter = Interpreter(model_path=path, num_threads=threads)
        runner = interpreter.get_signature_runner("serving_default")
        details = runner.get_input_details()
        shape = details["token_ids"]["shape"]
        feed = _inputs(int(shape[0]) if shape[0] > 0 else batch,
                       int(shape[1]) if shape[1] > 0 else length)
        call = lambda: runner(**feed)  # noqa: E731
    elif kind == "saved_model":
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  registers the raw-text signature's ops

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        before = _rss_mb()
        function = tf.saved_model.load(path).signatures["tokens"]
        feed = {k: tf.constant(v) for k, v in _inputs(batch, length).items()}
        call = lambda: function(**feed)  # noqa: E731
    elif kind == "keras":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        from albert_tf.models import load_classifier

        before = _rss_mb()
        model = load_classifier(path)
        model.preprocessor = None
        feed = _inputs(batch, length)
        call = lambda: model.predict_on_batch(feed)  # noqa: E731
    elif kind == "onnx":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        before = _rss_mb()
        session = onnxruntime.InferenceSession(path, options,
                                               providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        feed = {name: value for name, value in _inputs(batch, length).items()
                if any(name in n for n in names)}
        feed = {n: next(v for k, v in feed.items() if k in n) for n in names}
        call = lambda: session.run(None, feed)  # noqa: E731
    else:
        raise ValueError(f"unknown artifact kind {kind!r}")
    for _ in range(calls):
        call()
    return {"runtime_rss_mb": round(before, 1), "peak_rss_mb": round(_rss_mb(), 1)}


def peak_memory(kind: str, path, threads: int = 1, batch_size: int = 1,
                sequence_length: int = 128, calls: int = 3) -> dict:
    """`{"peak_rss_mb", "runtime_rss_mb", "model_rss_mb"}` of running the artifact.

    Args:
        kind: "tflite", "saved_model" (its `tokens` signature), "keras" (a saved classifier
            folder) or "onnx".
        path: the artifact.
        threads: runtime threads.
        batch_size, sequence_length: input shape where the artifact's own shape is not fixed.
        calls: inference calls before the peak is read.
    """
    code = (f"import json; from albert_tf.bench.memory import _child; print(json.dumps(_child("
            f"{kind!r}, {str(path)!r}, {int(threads)}, {int(batch_size)}, "
            f"{int(sequence_length)}, {int(calls)})))")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        logger.warning("peak memory of %s not measured: %s", path, tail)
        return {"peak_rss_mb": None, "runtime_rss_mb": None, "model_rss_mb": None,
                "error": tail}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["model_rss_mb"] = round(result["peak_rss_mb"] - result["runtime_rss_mb"], 1)
    return result
