"""write_edge_bundle: a complete, self-describing folder, written atomically."""

import json
from pathlib import Path

import pytest

from albert_tf.deploy.kit_bundle import write_edge_bundle
from albert_tf.errors import UserError


def test_albert_bundle_holds_model_tokenizer_labels_and_kit_json(albert_bundles,
                                                                 albert_classifier, label_names,
                                                                 sentencepiece_model):
    report = albert_bundles["float32"]
    bundle = Path(report["path"])
    assert sorted(p.name for p in bundle.iterdir()) == [
        "kit.json", "label_names.json", "model.tflite", "tokenizer.model"]
    assert not list(bundle.parent.glob(".*staging*"))
    kit = json.loads((bundle / "kit.json").read_text())
    tokenizer = albert_classifier.preprocessor.tokenizer
    assert kit["sequence_length"] == 32 and kit["batch_size"] == 1
    assert kit["inputs"] == ["token_ids", "segment_ids", "padding_mask"]
    assert kit["special_tokens"] == {"start_id": tokenizer.token_to_id("[CLS]"),
                                     "end_id": tokenizer.token_to_id("[SEP]"),
                                     "pad_id": tokenizer.token_to_id("<pad>")}
    assert kit["special_tokens"] == {"start_id": 2, "end_id": 3, "pad_id": 0}
    assert kit["tokenizer"] == {"kind": "sentencepiece", "file": "tokenizer.model"}
    assert (bundle / "tokenizer.model").read_bytes() == Path(sentencepiece_model).read_bytes()
    assert json.loads((bundle / "label_names.json").read_text()) == label_names
    assert kit["mode"] == "float32" and kit["runs_on_tflite_runtime_2_14"] is True
    assert albert_bundles["dynamic-int8"]["runs_on_tflite_runtime_2_14"] is False
    assert albert_bundles["dynamic-int8"]["model_size_bytes"] < kit["model_size_bytes"]


def test_existing_bundle_is_kept_unless_overwrite(albert_classifier, albert_bundles, tmp_path):
    source = Path(albert_bundles["float32"]["path"]) / "model.tflite"
    target = tmp_path / "bundle"
    first = write_edge_bundle(albert_classifier, target, tflite_path=source, mode="float16")
    assert first["mode"] == "float16"  # no export report beside the file: the stated mode
    with pytest.raises(UserError, match="already exists"):
        write_edge_bundle(albert_classifier, target, tflite_path=source)
    again = write_edge_bundle(albert_classifier, target, tflite_path=source, overwrite=True)
    assert again["model_sha256"] == albert_bundles["float32"]["model_sha256"]


def test_a_file_that_is_not_tflite_leaves_nothing_behind(albert_classifier, tmp_path):
    bogus = tmp_path / "model.tflite"
    bogus.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(UserError, match="not a loadable TFLite model"):
        write_edge_bundle(albert_classifier, tmp_path / "bundle", tflite_path=bogus)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite"]
