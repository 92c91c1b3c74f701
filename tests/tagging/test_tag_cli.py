"""`albert-tf tag` on a saved tagger: evaluate, predict, export; one-line errors."""

import json
import subprocess
import sys


def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "albert_tf.cli", "tag", *args], input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_evaluate_and_predict(trained_tagger, tmp_path):
    _, folder, _ = trained_tagger
    report_path = tmp_path / "report.json"
    result = _cli("evaluate", str(folder), "--data", "brown-corpus", "--train-limit", "300",
                  "--test-limit", "60", "--output", str(report_path))
    assert result.returncode == 0, result.stderr
    assert "token accuracy" in result.stdout and "majority tag" in result.stdout
    report = json.loads(report_path.read_text())
    assert report["sentences"] == 60 and report["token_accuracy"] > report["majority_tag_accuracy"]

    result = _cli("predict", str(folder), "--format", "jsonl",
                  stdin="The man walked home.\nShe is here!\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["words"] == ["The", "man", "walked", "home", "."]
    assert len(lines[0]["tags"]) == 5 and len(lines[1]["tags"]) == 4


def test_bad_input_gives_one_line_and_exit_2(trained_tagger, tmp_path):
    _, folder, _ = trained_tagger
    result = _cli("evaluate", str(folder), "--data", str(tmp_path / "missing.conll"))
    assert result.returncode == 2
    # data is checked before TensorFlow starts: the error is the only output
    assert result.stderr.strip().count("\n") == 0 and "missing.conll" in result.stderr
    result = _cli("evaluate", str(tmp_path))
    assert result.returncode == 2 and "not a saved token classifier" in result.stderr


def test_export_an_edge_bundle_and_refuse_an_existing_one(trained_tagger, tmp_path):
    _, folder, _ = trained_tagger
    bundle = tmp_path / "bundle"
    result = _cli("export", str(folder), "--format", "edge", "--mode", "dynamic-int8",
                  "--output", str(bundle))
    assert result.returncode == 0, result.stderr
    assert "parity passed on 237 texts" in result.stdout and "tag.py" in result.stdout
    kit = json.loads((bundle / "kit.json").read_text())
    assert kit["task"] == "token-classification" and kit["mode"] == "dynamic-int8"
    assert kit["parity"]["word_split_identical"] and kit["parity"]["edge_tokens_identical"]
    again = _cli("export", str(folder), "--format", "edge", "--output", str(bundle))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert again.stderr.strip().count("\n") == 0
    wrong = _cli("export", str(folder), "--output", str(tmp_path / "t.tflite"),
                 "--allow-mismatch")
    assert wrong.returncode == 2 and "for --format edge" in wrong.stderr
