"""TFLite export in every mode: loads and runs in ai-edge-litert, is what the mode says, sizes
order as int8 < float16 < float32, float32 matches Keras within 1e-4."""

import numpy as np
import pytest

from albert_tf.deploy import TFLITE_MODES
from albert_tf.deploy.classifier_graph import keras_probabilities, pack_texts
from albert_tf.deploy.parity import PARITY_TEXTS
from albert_tf.errors import UserError


@pytest.mark.parametrize("mode", TFLITE_MODES)
def test_every_mode_runs_in_ai_edge_litert(tflite_exports, tiny_classifier, splits, mode):
    from ai_edge_litert.interpreter import Interpreter

    report = tflite_exports[mode]
    interpreter = Interpreter(model_path=report["path"])
    runner = interpreter.get_signature_runner("serving_default")
    packed = pack_texts(tiny_classifier, splits[2].texts[:1])
    outputs = runner(**packed)
    probabilities = outputs["probabilities"]
    assert probabilities.shape == (1, len(splits[0].label_names))
    assert probabilities.sum() == pytest.approx(1.0, abs=0.02)
    # The artifact takes fixed-length token tensors, exactly what the preprocessor packs.
    assert runner.get_input_details()["token_ids"]["shape"].tolist() == [1, 32]


def test_sizes_order_int8_float16_float32(tflite_exports):
    size = {mode: report["size_bytes"] for mode, report in tflite_exports.items()}
    assert size["int8"] < size["float16"] < size["float32"]
    assert size["dynamic-int8"] < size["float16"]
    assert size["int16x8"] < size["float32"]


def test_each_mode_computes_in_its_precision(tflite_exports):
    classes = {mode: report["ops"]["compute_classes"] for mode, report in tflite_exports.items()}
    assert "int8" not in classes["float32"] and "hybrid" not in classes["float32"]
    assert "FLOAT16" in tflite_exports["float16"]["ops"]["tensor_types"]
    assert classes["dynamic-int8"]["hybrid"] >= 10  # float activations, int8 weights
    assert classes["int8"]["int8"] > 50
    assert classes["int16x8"]["int16"] > 50
    # Full-integer: only a handful of ops without int8 kernels stay float.
    assert sum(tflite_exports["int8"]["ops"]["float_ops"].values()) < 10


def test_float32_matches_keras_within_tolerance(tflite_exports):
    outputs = tflite_exports["float32"]["parity"]["outputs"]
    assert outputs["texts"] == len(PARITY_TEXTS)
    assert outputs["tolerance"] == 1e-4
    assert outputs["max_abs_error"] <= 1e-4 and outputs["within_tolerance"]


def test_quantized_modes_report_their_parity_error(tflite_exports):
    for mode in ("float16", "dynamic-int8", "int8", "int16x8"):
        outputs = tflite_exports[mode]["parity"]["outputs"]
        assert outputs["tolerance"] is None
        assert 0 <= outputs["max_abs_error"] < 0.2, mode
        assert outputs["argmax_agreement"] >= 0.8, mode


def test_int16x8_needs_and_records_its_graph_rewrites(tflite_exports):
    rewrites = tflite_exports["int16x8"]["graph_rewrites"]
    # token, segment embedding lookups; one SquaredDifference per LayerNorm
    assert rewrites["drop_index_normalization"] >= 2
    assert rewrites["split_squared_difference"] >= 5
    assert tflite_exports["int8"]["graph_rewrites"] == {}


def test_report_json_written_beside_artifact(tflite_exports):
    import json
    from pathlib import Path

    report = tflite_exports["int8"]
    on_disk = json.loads(Path(report["path"] + ".json").read_text())
    assert on_disk["size_bytes"] == Path(report["path"]).stat().st_size
    assert on_disk["calibration_samples"] == 32
    assert on_disk["ops"]["float_ops"] == report["ops"]["float_ops"]


def test_int8_output_io_type(tiny_classifier, splits, label_names, tmp_path, tflite_exports):
    from ai_edge_litert.interpreter import Interpreter

    from albert_tf.deploy import TFLiteRunner, export_tflite

    report = export_tflite(tiny_classifier, tmp_path / "io8.tflite", mode="int8",
                           io_type="int8", representative_data=splits[0],
                           label_names=label_names, calibration_samples=32, parity=False)
    detail = Interpreter(model_path=report["path"]).get_signature_runner() \
        .get_output_details()["probabilities"]
    assert detail["dtype"] == np.int8
    packed = pack_texts(tiny_classifier, splits[2].texts[:20])
    quantized_out = TFLiteRunner(report["path"]).predict_packed(packed)  # dequantised
    float_out = TFLiteRunner(tflite_exports["int8"]["path"]).predict_packed(packed)
    assert np.abs(quantized_out - float_out).max() < 0.02
    reference = keras_probabilities(tiny_classifier, packed)
    assert np.mean(quantized_out.argmax(-1) == reference.argmax(-1)) >= 0.8


def test_bad_requests_are_user_errors(tiny_classifier, tmp_path):
    from albert_tf.deploy import export_tflite

    with pytest.raises(UserError, match="unknown TFLite mode"):
        export_tflite(tiny_classifier, tmp_path / "x.tflite", mode="int4")
    with pytest.raises(UserError, match="representative_data"):
        export_tflite(tiny_classifier, tmp_path / "x.tflite", mode="int8")
    with pytest.raises(UserError, match="raw-text"):
        export_tflite(tiny_classifier, tmp_path / "x.tflite", mode="int16x8", raw_text=True)
    assert not (tmp_path / "x.tflite").exists()
