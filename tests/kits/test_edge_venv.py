"""The edge kit in a fresh venv holding only export/edge/requirements.txt (no TensorFlow, no
albert_tf) classifies real texts exactly as albert_tf does."""

import json
import subprocess
from pathlib import Path

import numpy as np
from kit_helpers import EDGE_KIT, isolated_env, keras_probabilities, read_json_output, run_kit

from albert_tf.deploy import TFLiteRunner
from albert_tf.deploy.classifier_graph import pack_texts

CLASSIFY = EDGE_KIT / "classify.py"


def _classify_json(python, bundle, texts, tmp_path, *extra):
    text_file = tmp_path / "texts.txt"
    text_file.write_text("\n".join(texts) + "\n", encoding="utf-8")
    output = read_json_output(run_kit(python, CLASSIFY, bundle, "--file", text_file, "--json",
                                      *extra))
    return output, np.asarray([[r["probabilities"][name] for name in r["probabilities"]]
                               for r in output["results"]])


def test_the_venv_has_no_tensorflow_and_no_albert_tf(edge_venv):
    for module in ("tensorflow", "albert_tf", "keras"):
        completed = subprocess.run([str(edge_venv), "-c", f"import {module}"],
                                   capture_output=True, text=True, env=isolated_env(), cwd="/")
        assert completed.returncode != 0, f"{module} is importable in the kit venv"


def test_float32_bundle_matches_keras(edge_venv, albert_bundles, albert_classifier, kit_texts,
                                      label_names, tmp_path):
    texts = [t for t in kit_texts if t.strip() and "\n" not in t]
    output, probabilities = _classify_json(edge_venv, albert_bundles["float32"]["path"], texts,
                                           tmp_path)
    assert output["runtime"].startswith("ai-edge-litert")
    assert [r["text"] for r in output["results"]] == texts
    expected = keras_probabilities(albert_classifier, texts)
    np.testing.assert_allclose(probabilities, expected, atol=1e-4)
    assert [r["label_id"] for r in output["results"]] == list(expected.argmax(axis=1))
    assert [r["label"] for r in output["results"]] == [label_names[i]
                                                       for i in expected.argmax(axis=1)]
    assert probabilities[:, 0].std() > 1e-3  # texts get different answers: a real comparison


def test_text_pairs_match_keras(edge_venv, albert_bundles, albert_classifier, kit_texts,
                                tmp_path):
    firsts = [t for t in kit_texts[:10] if t.strip()]
    seconds = list(reversed(firsts))
    output, probabilities = _classify_json(
        edge_venv, albert_bundles["float32"]["path"],
        [f"{a}\t{b}" for a, b in zip(firsts, seconds)], tmp_path, "--pairs")
    assert [r["pair"] for r in output["results"]] == seconds
    np.testing.assert_allclose(probabilities,
                               keras_probabilities(albert_classifier, firsts, seconds), atol=1e-4)


def test_dynamic_int8_bundle_matches_albert_tf_runner(edge_venv, albert_bundles,
                                                      albert_classifier, kit_texts, tmp_path):
    texts = [t for t in kit_texts if t.strip() and "\n" not in t]
    bundle = Path(albert_bundles["dynamic-int8"]["path"])
    output, probabilities = _classify_json(edge_venv, bundle, texts, tmp_path, "--threads", "2")
    expected = TFLiteRunner(bundle / "model.tflite").predict_packed(
        pack_texts(albert_classifier, texts))
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert [r["label_id"] for r in output["results"]] == list(expected.argmax(axis=1))
    # Quantised weights: close to the float model, not equal to it.
    float_probabilities = keras_probabilities(albert_classifier, texts)
    assert 0 < np.abs(probabilities - float_probabilities).max() < 0.1


def test_wordpiece_bundle_matches_keras(edge_venv, wordpiece_bundle, wordpiece_classifier,
                                        kit_texts, tmp_path):
    texts = [t for t in kit_texts if t.strip() and "\n" not in t]
    output, probabilities = _classify_json(edge_venv, wordpiece_bundle["path"], texts, tmp_path)
    np.testing.assert_allclose(probabilities, keras_probabilities(wordpiece_classifier, texts),
                               atol=1e-4)
    assert [r["label"] for r in output["results"]][0] in ("negative", "neutral", "positive")


def test_plain_output_is_one_line_per_text(edge_venv, albert_bundles, label_names):
    completed = run_kit(edge_venv, CLASSIFY, albert_bundles["float32"]["path"],
                        "a gripping, beautifully acted film", "dull and far too long")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 2
    for line, text in zip(lines, ["a gripping, beautifully acted film",
                                  "dull and far too long"]):
        label, probability, shown = line.split("\t")
        assert label in label_names and 0.5 <= float(probability) <= 1.0 and shown == text


def test_latency_mode_reports_median_and_p90(edge_venv, albert_bundles):
    output = read_json_output(run_kit(edge_venv, CLASSIFY, albert_bundles["float32"]["path"],
                                      "--benchmark", "20", "--warmup", "3", "--threads", "2",
                                      "--json"))
    bench = output["benchmark"]
    assert bench["runs"] == 20 and bench["warmup_runs"] == 3 and output["threads"] == 2
    for key in ("interpreter_ms", "end_to_end_ms"):
        assert 0 < bench[key]["min"] <= bench[key]["median"] <= bench[key]["p90"]
    completed = run_kit(edge_venv, CLASSIFY, albert_bundles["float32"]["path"],
                        "--benchmark", "5")
    assert completed.returncode == 0 and "median" in completed.stdout and "p90" in completed.stdout


def test_bad_input_is_one_line_and_exit_2(edge_venv, albert_bundles, tmp_path):
    missing = run_kit(edge_venv, CLASSIFY, tmp_path, "a film")
    assert missing.returncode == 2 and "kit.json" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1

    broken = tmp_path / "broken"
    source = Path(albert_bundles["float32"]["path"])
    broken.mkdir()
    for path in source.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    model = broken / "model.tflite"
    model.write_bytes(model.read_bytes()[:1000])  # an interrupted copy
    truncated = run_kit(edge_venv, CLASSIFY, broken, "a film")
    assert truncated.returncode == 2 and "sha256" in truncated.stderr

    no_text = run_kit(edge_venv, CLASSIFY, source)
    assert no_text.returncode == 2 and "no texts" in no_text.stderr
    kit = json.loads((source / "kit.json").read_text())
    assert kit["format"] == 1
