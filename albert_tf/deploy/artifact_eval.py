"""Accuracy of an exported artifact, measured by running the artifact itself.

The numbers never come from the Keras model: a `.tflite` file is run with ai-edge-litert, a
SavedModel through its loaded signature, and both are scored by the same
`albert_tf.classification_metrics.classification_report` as the Keras model, from their own outputs.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from albert_tf.deploy.classifier_graph import TOKEN_INPUT_NAMES, pack_texts
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


def _check_labelled(examples):
    if not getattr(examples, "label_names", None):
        raise UserError("evaluation needs labelled examples (e.g. the test split)")


def evaluate_tflite(path, examples, model=None, packed=None, num_threads: int = 1,
                    latency_runs: int = 20) -> dict:
    """Score a `.tflite` classifier on `examples` by running it with ai-edge-litert.

    Args:
        path: the `.tflite` file.
        examples: labelled examples (`texts`, optional `pairs`, `labels`, `label_names`),
            e.g. the test split.
        model: the Keras classifier whose preprocessor packs the texts (token-input models);
            not needed for raw-text models or when `packed` is given.
        packed: already packed inputs for `examples` (same order).
        num_threads: interpreter threads.
        latency_runs: timed single calls for the median latency (0 to skip).

    Returns:
        The classification report (accuracy, macro-F1, ...) plus `artifact`, `size_bytes`,
        `latency_ms_median` (one call of the model's batch size) and `seconds`.
    """
    from albert_tf.classification_metrics import classification_report
    from albert_tf.deploy.tflite_runner import TFLiteRunner

    _check_labelled(examples)
    runner = TFLiteRunner(path, num_threads=num_threads)
    pairs = getattr(examples, "pairs", None)
    started = time.perf_counter()
    if runner.takes_text:
        probabilities = runner.predict_texts(list(examples.texts), pairs)
        sample = list(examples.texts[:runner.batch_size])
    else:
        if packed is None:
            if model is None:
                raise UserError("a token-input TFLite model needs the Keras model (its "
                                "preprocessor) or packed inputs to evaluate")
            packed = pack_texts(model, examples.texts, pairs)
        probabilities = runner.predict_packed(packed)
        sample = {name: packed[name][:runner.batch_size] for name in TOKEN_INPUT_NAMES}
    seconds = time.perf_counter() - started
    report = classification_report(examples.labels, probabilities, examples.label_names)
    report.update(
        artifact=str(path),
        size_bytes=Path(path).stat().st_size,
        seconds=round(seconds, 3),
        latency_ms_median=runner.median_latency_ms(sample, latency_runs) if latency_runs else None,
        num_threads=num_threads,
    )
    return report


def evaluate_saved_model(folder, examples, model=None, packed=None,
                         signature: str = "serving_default", batch_size: int = 64) -> dict:
    """Score a SavedModel on `examples` through its loaded signature.

    Args:
        folder: the SavedModel (version) folder.
        examples: labelled examples, e.g. the test split.
        model: Keras classifier to pack texts for a token signature (or give `packed`).
        packed: already packed inputs for a token signature.
        signature: "serving_default" (raw text) or "tokens".
        batch_size: examples per signature call.

    Returns:
        The classification report plus `artifact`, `signature` and `seconds`.
    """
    import tensorflow as tf

    from albert_tf.classification_metrics import classification_report

    _check_labelled(examples)
    loaded = tf.saved_model.load(str(folder))
    if signature not in loaded.signatures:
        raise UserError(f"{folder} has no signature {signature!r} "
                        f"(found {sorted(loaded.signatures)})")
    function = loaded.signatures[signature]
    input_names = set(function.structured_input_signature[1])
    pairs = getattr(examples, "pairs", None)
    if "text" in input_names:
        if ("text_pair" in input_names) != (pairs is not None):
            raise UserError("the SavedModel takes text pairs" if "text_pair" in input_names
                            else "the SavedModel takes single texts, the examples are pairs")
        columns = {"text": np.asarray(examples.texts, dtype=object)}
        if pairs is not None:
            columns["text_pair"] = np.asarray(pairs, dtype=object)
    else:
        if packed is None:
            if model is None:
                raise UserError("the token signature needs the Keras model (its preprocessor) "
                                "or packed inputs")
            packed = pack_texts(model, examples.texts, pairs)
        columns = {name: packed[name] for name in TOKEN_INPUT_NAMES}
    started = time.perf_counter()
    parts = []
    n = len(examples.texts)
    for start in range(0, n, batch_size):
        batch = {name: tf.constant(values[start:start + batch_size])
                 for name, values in columns.items()}
        parts.append(function(**batch)["probabilities"].numpy())
    seconds = time.perf_counter() - started
    probabilities = np.concatenate(parts)
    report = classification_report(examples.labels, probabilities, examples.label_names)
    report.update(artifact=str(folder), signature=signature, seconds=round(seconds, 3))
    return report
