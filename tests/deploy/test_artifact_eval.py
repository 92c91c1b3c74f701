"""Artifact accuracy is measured by running the artifact itself through ai-edge-litert."""

import numpy as np
import pytest

from albert_tf.deploy import evaluate_tflite
from albert_tf.deploy.classifier_graph import pack_texts
from albert_tf.errors import UserError


def _interpreter_predictions(path, packed):
    """Predictions straight from ai-edge-litert, one example per call."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    detail = runner.get_output_details()["probabilities"]
    predictions = []
    for i in range(len(packed["token_ids"])):
        out = runner(**{name: values[i:i + 1] for name, values in packed.items()})
        values = out["probabilities"].astype(np.float32)
        if detail["dtype"] == np.int8:
            scale, zero = detail["quantization"]
            values = (values - zero) * scale
        predictions.append(int(values.argmax()))
    return np.array(predictions)


@pytest.mark.parametrize("mode", ["float32", "int8", "int16x8"])
def test_accuracy_comes_from_the_interpreter(tflite_exports, tiny_classifier, splits, mode):
    test = splits[2]
    path = tflite_exports[mode]["path"]
    report = evaluate_tflite(path, test, model=tiny_classifier, latency_runs=5)
    packed = pack_texts(tiny_classifier, test.texts)
    expected = np.mean(_interpreter_predictions(path, packed) == test.labels)
    assert report["examples"] == len(test.texts)
    assert report["accuracy"] == pytest.approx(expected)
    assert report["size_bytes"] == tflite_exports[mode]["size_bytes"]
    assert report["latency_ms_median"] > 0
    assert sum(map(sum, report["confusion_matrix"])) == len(test.texts)


def test_raw_text_artifact_is_evaluated_from_strings(raw_text_export, tflite_exports, splits):
    test = splits[2]
    from_text = evaluate_tflite(raw_text_export["path"], test, latency_runs=0)
    from_tokens = evaluate_tflite(tflite_exports["float32"]["path"], test,
                                  packed=pack_texts_for(raw_text_export, test), latency_runs=0)
    assert from_text["confusion_matrix"] == from_tokens["confusion_matrix"]


def pack_texts_for(raw_export, examples):
    """Packed ids from the raw-text artifact's own in-graph tokenizer."""
    from albert_tf.deploy import TFLiteRunner

    return TFLiteRunner(raw_export["path"]).encode_texts(list(examples.texts))


def test_token_model_needs_a_preprocessor(tflite_exports, splits):
    with pytest.raises(UserError, match="preprocessor"):
        evaluate_tflite(tflite_exports["float32"]["path"], splits[2])
