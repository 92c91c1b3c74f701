"""The CLI end to end on real data: finetune -> predict -> evaluate, and a killed run resumed."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from albert_tf.cli import main

pytestmark = pytest.mark.slow  # fine-tuning runs on real data, killed and resumed

SMALL_JOB = ["--data", "rotten-tomatoes", "--model", "albert-tiny", "--vocab-size", "500",
             "--train-limit", "160", "--dev-limit", "40", "--test-limit", "40",
             "--sequence-length", "32", "--batch-size", "16", "--learning-rate", "1e-3"]


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    assert main(["finetune", *SMALL_JOB, "--epochs", "2", "--run-dir", str(run_dir)]) == 0
    return run_dir


def test_finetune_writes_model_metrics_and_tokenizer(finetuned):
    metrics = json.loads((finetuned / "metrics.json").read_text())
    assert metrics["examples"] == {"train": 160, "dev": 40, "test": 40}
    assert metrics["test"]["examples"] == 40
    assert sum(map(sum, metrics["test"]["confusion_matrix"])) == 40
    assert set(metrics["test"]["per_class"]) == {"negative", "positive"}
    assert (finetuned / "tokenizer.model").is_file()
    assert (finetuned / "model" / "task.json").is_file()
    assert json.loads((finetuned / "model" / "label_names.json").read_text()) == [
        "negative", "positive"]


def test_predict_prints_a_label_and_probabilities_per_text(finetuned, capsys):
    assert main(["predict", "--model-dir", str(finetuned / "model"),
                 "a warm, funny film", "東京 😀 naïve"]) == 0
    rows = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["a warm, funny film", "東京 😀 naïve"]
    for row in rows:
        assert row["label"] in ("negative", "positive")
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-3


def test_an_empty_text_is_classified_like_the_exported_graphs_do(finetuned, capsys):
    assert main(["predict", "--model-dir", str(finetuned / "model"), "", "a fine film"]) == 0
    rows = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["", "a fine film"]


def test_predict_file_drops_the_bom_and_reports_a_bad_line_without_dropping_the_rest(
        finetuned, tmp_path, capsys):
    path = tmp_path / "texts.txt"
    path.write_bytes(b"\xef\xbb\xbfa warm film\ncaf\xe9 cr\xe8me\ndull\n")
    assert main(["predict", "--model-dir", str(finetuned / "model"), "--file", str(path)]) == 2
    captured = capsys.readouterr()
    assert [json.loads(l)["text"] for l in captured.out.splitlines()] == ["a warm film", "dull"]
    assert captured.err.strip() == f"error: {path} line 2 is not valid UTF-8"


def test_resuming_with_other_settings_is_refused_and_names_them(finetuned, capsys):
    argv = [a if a != "32" else "24" for a in SMALL_JOB]  # --sequence-length 32 -> 24
    assert main(["finetune", *argv, "--epochs", "3", "--resume", "--run-dir",
                 str(finetuned)]) == 2
    err = capsys.readouterr().err
    assert "its checkpoint was made with different settings: sequence_length 32 -> 24" in err
    assert json.loads((finetuned / "job.json").read_text())["sequence_length"] == 32


def test_evaluate_matches_finetune_test_metrics(finetuned, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(finetuned / "model"), "--data", "rotten-tomatoes",
                 "--test-limit", "40", "--output", str(out)]) == 0
    evaluated = json.loads(out.read_text())
    trained = json.loads((finetuned / "metrics.json").read_text())["test"]
    assert evaluated["confusion_matrix"] == trained["confusion_matrix"]
    assert abs(evaluated["loss"] - trained["loss"]) < 1e-4


def test_evaluate_split_all_scores_every_row_of_a_labelled_file(finetuned, tmp_path):
    data = tmp_path / "labelled.jsonl"
    rows = [("a warm, funny film", 1), ("dull and far too long", 0), ("a small joy", 1),
            ("nothing works here", 0), ("the best of the year", 1)]
    data.write_text("".join(json.dumps({"text": t, "label": l}) + "\n" for t, l in rows))
    out = tmp_path / "all.json"
    assert main(["evaluate", str(finetuned / "model"), "--data", str(data), "--split", "all",
                 "--output", str(out)]) == 0
    evaluated = json.loads(out.read_text())
    assert evaluated["examples"] == len(rows)  # the test split alone would hold 1
    assert evaluated["split"] == "all"


def test_evaluate_rejects_labels_out_of_the_models_range(finetuned, tmp_path, capsys):
    data = tmp_path / "ids.jsonl"
    data.write_text('{"text": "good", "label": 1}\n{"text": "bad", "label": 7}\n')
    assert main(["evaluate", str(finetuned / "model"), "--data", str(data)]) == 2
    assert "out of range" in capsys.readouterr().err


def test_a_killed_run_resumes_without_redoing_finished_epochs(tmp_path):
    run_dir = tmp_path / "run"
    argv = [sys.executable, "-m", "albert_tf.cli", "finetune", *SMALL_JOB, "--epochs", "3",
            "--patience", "0", "--run-dir", str(run_dir)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    state_path = run_dir / "checkpoints" / "state.json"
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None:
        if state_path.is_file() and json.loads(state_path.read_text())["epochs_done"] >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_state = json.loads(state_path.read_text())
    assert 1 <= killed_state["epochs_done"] < 3

    result = subprocess.run(argv + ["--resume"], capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-2000:]
    history = json.loads((run_dir / "metrics.json").read_text())["training"]["history"]
    assert [e["epoch"] for e in history] == [1, 2, 3]
    # Finished epochs were kept, not trained again.
    done = killed_state["epochs_done"]
    assert history[:done] == killed_state["history"]
