"""`albert-tf bench` and `albert-tf report` end to end on the small model, and their errors."""

import json

import pytest

from albert_tf.cli import main

DATA = ["--data", "rotten-tomatoes", "--train-limit", "400", "--dev-limit", "100",
        "--test-limit", "100"]


@pytest.fixture(scope="module")
def bench_out(bench_files, tmp_path_factory):
    """One bench of the pruned model's files against the parent as teacher."""
    out = tmp_path_factory.mktemp("bench_out")
    code = main(["bench", "--model-dir", str(bench_files["pruned_dir"]),
                 "--tflite", str(bench_files["pruned-float32"]),
                 "--tflite", str(bench_files["pruned-dynamic-int8"]),
                 "--teacher-dir", str(bench_files["parent_dir"]), "--out", str(out), *DATA,
                 "--eval-limit", "40", "--threads", "1", "2", "--batch-sizes", "1", "2",
                 "--runs", "3", "--warmup", "1", "--real-length-examples", "8",
                 # Memory children importing TensorFlow take ~30 s each here: see below.
                 "--no-memory"])
    assert code == 0
    return out


def test_bench_measures_every_artifact_against_the_teacher_saved_model(bench_out):
    results = json.loads((bench_out / "results.json").read_text())
    rows = {row["artifact"]: row for row in results["artifacts"]}
    assert list(rows)[:3] == ["saved_model teacher", "model-float32.tflite",
                              "model-dynamic-int8.tflite"]
    assert rows["saved_model teacher"]["role"] == "teacher"
    assert set(results["machine"]["matmul_peak_gflops"]) == {"1", "2"}
    for name in ("model-float32.tflite", "model-dynamic-int8.tflite"):
        row = rows[name]
        assert set(row["latency"]) == {"1", "2"}
        stats = row["latency"]["1"]
        assert stats["runs"] == 3 and stats["median_ms"] <= stats["p90_ms"] <= stats["p99_ms"]
        assert stats["achieved_gflops"] > 0 and row["flops"] > 0
        assert row["gzip_bytes"] < row["size_bytes"]
        assert row["speedup_vs_teacher_saved_model"] > 0 and "accuracy_change" in row
        assert 0.0 <= row["ece"] <= 1.0  # expected calibration error beside the accuracy
    keras = rows["keras model"]
    # Shape-flexible artifacts are timed on the whole grid: batch 1 and 2 at 64 tokens.
    assert {(p["batch_size"], p["sequence_length"]) for p in keras["grid"]} == {(1, 64), (2, 64)}
    grid = {p["batch_size"]: p["flops"] for p in keras["grid"]}
    assert grid[2] == 2 * grid[1]
    assert rows["model-dynamic-int8.tflite"]["size_bytes"] * 3 < \
        rows["model-float32.tflite"]["size_bytes"]


def test_baselines_learn_from_the_same_training_split_and_score_the_same_examples(bench_out,
                                                                                 bench_splits):
    from albert_tf.bench.baselines import classification_baselines
    from albert_tf.data import subset

    results = json.loads((bench_out / "results.json").read_text())
    baselines = {b["baseline"]: b for b in results["baselines"]}
    assert list(baselines) == ["majority class", "TF-IDF + LR"]
    # --train-limit 400 and --eval-limit 40: the fixture's training split, the artifacts'
    # 40 test examples (a seeded subset of its 100).
    test = subset(bench_splits[2], 40, seed=0)
    expected = classification_baselines(bench_splits[0], test)
    for row in expected:
        assert baselines[row.name]["accuracy"] == round(row.accuracy, 4)
        assert baselines[row.name]["train_examples"] == 400
    for row in results["artifacts"]:
        paired = row["paired_vs_tfidf"]
        assert paired["examples"] == 40 and paired["low"] <= paired["difference"] <= paired["high"]
        assert paired["difference"] == pytest.approx(
            row["accuracy"] - baselines["TF-IDF + LR"]["accuracy"], abs=1e-3)
    markdown = (bench_out / "report.md").read_text()
    assert "| TF-IDF + LR (baseline) | baseline |" in markdown
    assert "| majority class (baseline) | baseline |" in markdown
    assert "accuracy minus TF-IDF + LR's on the same 40 test examples" in markdown


def test_peak_memory_is_read_in_a_child_process_that_runs_the_artifact(bench_files):
    from albert_tf.bench.memory import peak_memory

    small = peak_memory("tflite", bench_files["pruned-dynamic-int8"])
    large = peak_memory("tflite", bench_files["parent-float32"])
    assert large["peak_rss_mb"] > large["runtime_rss_mb"] > 0
    # The float32 parent holds ~1.4 MB of weights more than the int8 child.
    assert large["model_rss_mb"] > small["model_rss_mb"]


def test_real_length_runs_each_example_at_its_own_length_with_the_same_answers(bench_out):
    results = json.loads((bench_out / "results.json").read_text())
    real = {r["artifact"]: r for r in results["real_length"]}
    assert set(real) == {"model-float32.tflite", "model-dynamic-int8.tflite"}
    float32 = real["model-float32.tflite"]
    assert float32["examples"] == 8 and float32["mean_real_length"] < float32["padded_length"]
    assert float32["max_probability_difference"] < 1e-4
    assert float32["fixed"]["mean_ms"] > 0 and float32["real"]["mean_ms"] > 0


def test_onnx_baseline_is_reported_either_way(bench_out):
    from albert_tf.bench.onnx_baseline import onnx_missing

    results = json.loads((bench_out / "results.json").read_text())
    missing = onnx_missing()
    if missing:
        assert results["onnx"].startswith("not installed")
        assert "not installed" in (bench_out / "report.md").read_text()
    else:
        kinds = [row["kind"] for row in results["artifacts"]]
        assert kinds.count("onnx") == 2


def test_reports_are_written_and_the_html_is_self_contained(bench_out):
    markdown = (bench_out / "report.md").read_text()
    assert "| artifact | kind | accuracy | ECE | Δ vs teacher | parameters |" in markdown
    assert "median ms (1 thr)" in markdown and "speed-up vs teacher SavedModel" in markdown
    assert "## Real sequence length against fixed padding" in markdown
    page = (bench_out / "report.html").read_text()
    # One latency plot per thread count timed (1 and 2), and the size plot.
    assert page.count('src="data:image/png;base64,') == 3
    assert 'alt="accuracy against latency, 2 threads"' in page
    assert "http://" not in page and "https://" not in page


def test_report_puts_runs_side_by_side(bench_out, tmp_path):
    second = tmp_path / "second"
    second.mkdir()
    results = json.loads((bench_out / "results.json").read_text())
    first_title = results["title"]
    results["title"] = "second-run"
    (second / "results.json").write_text(json.dumps(results))
    out = tmp_path / "combined"
    assert main(["report", str(bench_out), str(second), "--out", str(out)]) == 0
    markdown = (out / "report.md").read_text()
    assert markdown.startswith("# Runs side by side")
    # Row groups are named by title and folder (runs of one recipe share its name).
    assert f"| **second-run ({second})** |" in markdown
    assert f"| **{first_title} ({bench_out})** |" in markdown
    assert markdown.count("| TF-IDF + LR (baseline) |") == 2  # each run keeps its own
    combined = json.loads((out / "results.json").read_text())
    assert len(combined["runs"]) == 2
    assert (out / "report.html").read_text().count("class=\"group\"") == 2


@pytest.mark.parametrize("argv, message", [
    (["bench"], "give a run folder"),
    (["bench", "/no/such/run"], "run folder not found"),
    (["report", "/no/such/run"], "no results.json"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_missing_tflite_file_is_one_line_and_exit_2(bench_files, tmp_path, capsys):
    code = main(["bench", "--model-dir", str(bench_files["pruned_dir"]), "--tflite",
                 str(tmp_path / "none.tflite"), "--out", str(tmp_path / "o"), *DATA])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "file not found" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 3],                       # truncated
    lambda data: bytes(range(256)) * 64,                        # not a TFLite file at all
])
def test_a_damaged_tflite_file_is_one_line_and_exit_2(bench_files, tmp_path, capsys, damage):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(damage(bench_files["pruned-float32"].read_bytes()))
    code = main(["bench", "--model-dir", str(bench_files["pruned_dir"]), "--tflite", str(bad),
                 "--out", str(tmp_path / "o"), *DATA, "--eval-limit", "8", "--threads", "1",
                 "--runs", "1", "--no-memory", "--no-onnx", "--real-length-examples", "0"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "bad.tflite is not a TFLite model the interpreter can load" in err
    assert len(err.splitlines()) == 1


def test_a_tflite_file_from_another_model_is_refused(bench_files, tmp_path, capsys):
    """The file's export report records its model's size; another --model-dir would pack
    its inputs and lend it a wrong parameter count."""
    code = main(["bench", "--model-dir", str(bench_files["parent_dir"]), "--tflite",
                 str(bench_files["pruned-float32"]), "--out", str(tmp_path / "o"), *DATA,
                 "--eval-limit", "8", "--threads", "1", "--runs", "1", "--no-memory",
                 "--no-onnx", "--real-length-examples", "0"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "model-float32.tflite was exported from a model with" in err
    assert str(bench_files["parent_dir"]) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "results.json").exists()


def test_a_bad_thread_count_is_rejected_by_argparse(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--threads", "0"])
    assert exit_info.value.code == 2
    assert "expected a whole number >= 1" in capsys.readouterr().err
