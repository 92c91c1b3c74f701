"""`albert-tf run` end to end on a tiny recipe: stages, manifests, skip, resume, gates."""

import json
import shutil

import pytest

from albert_tf.cli import main

pytestmark = pytest.mark.slow  # whole recipe runs on real data

RECIPE = "tests/recipe/tiny.yaml"
STAGES = ["teacher", "student", "distill", "prune", "export", "report"]


@pytest.fixture(scope="module")
def built_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recipe") / "run"
    assert main(["run", RECIPE, "--run-dir", str(folder)]) == 0
    return folder


@pytest.fixture
def run_dir(built_run):
    """The run as the recipe's own settings leave it, whatever an earlier test changed or
    deleted (a rerun redoes only the stages that differ, usually none)."""
    assert main(["run", RECIPE, "--run-dir", str(built_run)]) == 0
    return built_run


def _mtimes(folder):
    return {s: (folder / s / "manifest.json").stat().st_mtime_ns for s in STAGES}


def test_every_stage_leaves_a_manifest_and_the_report_measures_artifacts(run_dir):
    for stage in STAGES:
        manifest = json.loads((run_dir / stage / "manifest.json").read_text())
        assert manifest["stage"] == stage and manifest["packages"]["tensorflow"]
    results = json.loads((run_dir / "report" / "results.json").read_text())
    names = [row["artifact"] for row in results["artifacts"]]
    assert names[:3] == ["teacher-float32.tflite", "model-float32.tflite",
                         "model-dynamic-int8.tflite"]
    rows = {row["artifact"]: row for row in results["artifacts"]}
    assert rows["model-dynamic-int8.tflite"]["size_bytes"] * 2 < \
        rows["model-float32.tflite"]["size_bytes"]
    assert results["test_examples"] == 40 and results["gates_passed"]
    # Baselines learned from the recipe's 120 training examples, scored on the same 40.
    assert [b["baseline"] for b in results["baselines"]] == ["majority class", "TF-IDF + LR"]
    assert {b["train_examples"] for b in results["baselines"]} == {120}
    assert results["gated_artifact"] == "model-dynamic-int8.tflite"
    assert rows["model-dynamic-int8.tflite"]["paired_vs_tfidf"]["examples"] == 40
    report = (run_dir / "report" / "report.md").read_text()
    assert "| TF-IDF + LR (baseline) |" in report
    assert "model-dynamic-int8.tflite (gated) " in report
    # The student also learned from unlabelled training-split texts, none of them labelled,
    # dev or test texts (the distiller leaves those out).
    distill = json.loads((run_dir / "distill" / "manifest.json").read_text())["metrics"]
    assert distill["augmentation_examples"] == 24
    # Structured pruning really shrank the student.
    prune = json.loads((run_dir / "prune" / "manifest.json").read_text())["metrics"]
    assert prune["parameters_after"] < prune["parameters_before"]
    assert 0.0 < prune["dev_accuracy"] <= 1.0  # what the cut alone left, before recovery
    report = (run_dir / "report" / "report.md").read_text().splitlines()
    assert report[0].startswith("**Ship `export/model-dynamic-int8.tflite`**: ")
    assert report[2].startswith("# tiny")
    kit = json.loads((run_dir / "export" / "edge-bundle" / "kit.json").read_text())
    assert kit["mode"] == "dynamic-int8"


def test_a_rerun_skips_finished_stages(run_dir):
    before = _mtimes(run_dir)
    assert main(["run", RECIPE, "--run-dir", str(run_dir)]) == 0
    assert _mtimes(run_dir) == before


def test_a_changed_setting_reruns_only_that_stage_and_later_ones(run_dir):
    before = _mtimes(run_dir)
    assert main(["run", RECIPE, "--run-dir", str(run_dir),
                 "--set", "bench.latency_runs=2"]) == 0
    after = _mtimes(run_dir)
    assert all(after[s] == before[s] for s in STAGES[:-1]) and after["report"] != before["report"]


def test_an_interrupted_stage_runs_again(run_dir):
    (run_dir / "report" / "manifest.json").unlink()
    shutil.rmtree(run_dir / "export" / "serving")
    (run_dir / "export" / "manifest.json").unlink()
    assert main(["run", RECIPE, "--run-dir", str(run_dir), "--set", "bench.latency_runs=2"]) == 0
    assert (run_dir / "export" / "serving" / "albert" / "1").is_dir()
    assert (run_dir / "report" / "manifest.json").is_file()


def test_a_failed_gate_exits_1_and_says_which(run_dir, capsys):
    code = main(["run", RECIPE, "--run-dir", str(run_dir), "--set", "bench.latency_runs=2",
                 "--set", "gates.max_size_mb=0.001"])
    assert code == 1
    assert "gate failed: max_size_mb" in capsys.readouterr().out
