"""`albert-tf run` on a token-classification recipe: every stage on real Brown sentences with a
tiny tagger, per-token TFLite and word-tag SavedModel artifacts measured, skip on re-run,
gates."""

import json

import numpy as np
import pytest

from albert_tf.cli import main

pytestmark = pytest.mark.slow  # whole recipe runs on real data

RECIPE = "tests/recipe/tiny_tagging.yaml"
STAGES = ["teacher", "prune", "distill", "export", "report"]


@pytest.fixture(scope="module")
def built_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tag_recipe") / "run"
    assert main(["run", RECIPE, "--run-dir", str(folder)]) == 0
    return folder


@pytest.fixture
def run_dir(built_run):
    """The run as the recipe's own settings leave it, whatever an earlier test changed (a
    rerun redoes only the stages that differ, usually none)."""
    assert main(["run", RECIPE, "--run-dir", str(built_run)]) == 0
    return built_run


def _mtimes(folder):
    return {s: (folder / s / "manifest.json").stat().st_mtime_ns for s in STAGES}


def test_every_stage_runs_in_order_and_the_report_scores_each_artifact(run_dir):
    manifests = {s: json.loads((run_dir / s / "manifest.json").read_text()) for s in STAGES}
    assert [m["stage"] for m in manifests.values()] == STAGES
    assert not (run_dir / "student").exists()  # the pruned teacher is the student
    # Each stage's fingerprint chains the ones before it.
    assert manifests["report"]["upstream"] == [manifests[s]["fingerprint"] for s in STAGES[:-1]]
    teacher = manifests["teacher"]["metrics"]
    assert teacher["sentences"] == {"train": 200, "dev": 40, "test": 40}
    assert len(teacher["tag_names"]) == 12
    prune = manifests["prune"]["metrics"]
    assert prune["parameters_after"] < prune["parameters_before"]
    distill = manifests["distill"]["metrics"]
    assert distill["parameters"]["student"]["parameters"] == prune["parameters_after"]

    results = json.loads((run_dir / "report" / "results.json").read_text())
    rows = {row["artifact"]: row for row in results["artifacts"]}
    assert list(rows) == ["teacher (Keras float32)", "teacher-float32.tflite",
                          "model-float32.tflite", "model-dynamic-int8.tflite",
                          "saved_model (pos/1, raw text -> word tags)"]
    assert results["test_sentences"] == 40 and results["gates_passed"]
    # The exported teacher scores what the Keras teacher scores (same words, same tags).
    assert rows["teacher-float32.tflite"]["token_accuracy"] == pytest.approx(
        rows["teacher (Keras float32)"]["token_accuracy"], abs=0.01)
    for row in results["artifacts"]:
        assert 0.0 < row["token_accuracy"] <= 1.0 and row["size_bytes"] > 0
    assert rows["model-dynamic-int8.tflite"]["size_bytes"] < \
        rows["model-float32.tflite"]["size_bytes"]
    assert rows["model-float32.tflite"]["speedup"] > 0
    # Timed turn by turn: paired timings give every speed-up a bootstrap interval, and the
    # load around the timings is on record.
    shipped = rows["model-dynamic-int8.tflite"]
    assert shipped["shipped"] and results["shipped"]["artifact"] == shipped["artifact"]
    low, high = shipped["speedup_interval"]
    assert 0 < low <= high
    assert len(shipped["latency"]["1"]["times_ms"]) == \
        len(rows["teacher-float32.tflite"]["latency"]["1"]["times_ms"]) == 3
    assert {"noisy", "reasons", "other_load_per_cpu"} <= set(results["noise"])
    # Baselines learned from the recipe's 200 training sentences, scored on the same 40.
    baselines = {b["baseline"]: b for b in results["baselines"]}
    assert list(baselines) == ["majority tag", "most frequent tag"]
    assert baselines["most frequent tag"]["train_examples"] == 200
    assert baselines["most frequent tag"]["accuracy"] > baselines["majority tag"]["accuracy"]
    report = (run_dir / "report" / "report.md").read_text()
    assert "| most frequent tag (baseline) |" in report
    assert "| majority tag (baseline) |" in report
    # The first line says what to ship (then the title), and the table marks it.
    assert report.splitlines()[0].startswith("**Ship `export/model-dynamic-int8.tflite`**: ")
    assert report.splitlines()[2].startswith("# tiny-tagging")
    assert "| model-dynamic-int8.tflite (shipped) | tflite |" in report
    assert "timing conditions:" in report
    # The classification report's calibration and plots: token-level ECE, accuracy/latency.
    assert 0.0 <= shipped["ece"] <= 1.0 and "| ECE |" in report
    page = (run_dir / "report" / "report.html").read_text()
    assert "accuracy against latency, 1 thread" in page


def test_the_artifacts_give_per_token_outputs_and_word_tags(run_dir):
    import tensorflow as tf

    from albert_tf.deploy import TFLiteRunner

    runner = TFLiteRunner(run_dir / "export" / "model-dynamic-int8.tflite")
    packed = {name: np.zeros((1, 40), np.int32)
              for name in ("token_ids", "segment_ids", "padding_mask")}
    assert runner.predict_packed(packed).shape == (1, 40, 12)  # one tag distribution per token

    served = tf.saved_model.load(str(run_dir / "export" / "serving" / "pos" / "1"))
    out = served.signatures["serving_default"](text=tf.constant(["The dog barked loudly."]))
    assert [w.decode() for w in out["words"][0].numpy()] == ["The", "dog", "barked", "loudly",
                                                             "."]
    names = set(json.loads((run_dir / "teacher" / "model" / "tag_names.json").read_text()))
    assert {t.decode() for t in out["tags"][0].numpy()} <= names
    # The edge bundle holds the shipped file, checked by running the kit itself.
    kit = json.loads((run_dir / "export" / "edge-bundle" / "kit.json").read_text())
    assert kit["task"] == "token-classification"
    assert kit["parity"]["word_split_identical"] and kit["parity"]["edge_tokens_identical"]
    bundled = next((run_dir / "export" / "edge-bundle").glob("*.tflite"))
    assert bundled.read_bytes() == (run_dir / "export" / "model-dynamic-int8.tflite").read_bytes()


def test_a_rerun_skips_every_finished_stage(run_dir):
    before = _mtimes(run_dir)
    assert main(["run", RECIPE, "--run-dir", str(run_dir)]) == 0
    assert _mtimes(run_dir) == before


def test_a_changed_gate_reruns_only_the_report_and_a_failed_gate_exits_1(run_dir, capsys):
    before = _mtimes(run_dir)
    code = main(["run", RECIPE, "--run-dir", str(run_dir), "--set", "gates.max_size_mb=0.001"])
    assert code == 1
    assert "gate failed: max_size_mb" in capsys.readouterr().out
    after = _mtimes(run_dir)
    assert all(after[s] == before[s] for s in STAGES[:-1]) and after["report"] != before["report"]
    report = (run_dir / "report" / "report.md").read_text()
    assert report.splitlines()[0] == ("**Nothing to ship**: `export/model-dynamic-int8.tflite` "
                                      "failed its gates (max_size_mb).")
