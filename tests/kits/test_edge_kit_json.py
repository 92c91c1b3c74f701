"""The edge kit reads kit.json defensively: a damaged file is one KitError, not a traceback."""

import json

import pytest

GOOD = {"format": 1, "model_file": "model.tflite", "model_sha256": "0" * 64,
        "mode": "dynamic-int8", "signature": "serving_default",
        "inputs": ["token_ids", "segment_ids", "padding_mask"], "output": "probabilities",
        "sequence_length": 32, "truncate": "round_robin",
        "special_tokens": {"start_id": 2, "end_id": 3, "pad_id": 0},
        "tokenizer": {"kind": "sentencepiece", "file": "tokenizer.model"},
        "label_names_file": "label_names.json"}


def write(folder, content):
    folder.mkdir(exist_ok=True)
    (folder / "kit.json").write_text(content if isinstance(content, str) else json.dumps(content))
    return folder


@pytest.mark.parametrize("content, message", [
    ('{"format": 1, "model_file": ', "is not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ({**GOOD, "format": 9}, "bundle format 9"),
    ({k: v for k, v in GOOD.items() if k != "inputs"}, "lacks or mistypes inputs (list)"),
    ({**GOOD, "sequence_length": "32"}, "sequence_length (int)"),
    ({**GOOD, "tokenizer": {"kind": "sentencepiece"}}, "tokenizer.file (str)"),
])
def test_a_damaged_kit_json_is_one_kit_error(edge_kit, tmp_path, content, message):
    with pytest.raises(edge_kit.KitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        edge_kit.read_bundle_spec(write(tmp_path / "bundle", content))


def test_a_good_kit_json_is_read_as_written(edge_kit, tmp_path):
    assert edge_kit.read_bundle_spec(write(tmp_path / "bundle", GOOD)) == GOOD
    (tmp_path / "bundle" / "kit.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(edge_kit.KitError, match="is not valid JSON"):
        edge_kit.read_bundle_spec(tmp_path / "bundle")
