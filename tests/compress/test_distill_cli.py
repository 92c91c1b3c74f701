"""`albert-tf distill` from the command line: a saved teacher in, a student preset out."""

import json

import keras_hub
import pytest
from distill_fixtures import the_teacher

from albert_tf.cli import main
from albert_tf.models import load_classifier, save_classifier


def test_distill_command_albertizes_resumes_and_reports(rotten_tomatoes_small, tmp_path, capsys):
    train = rotten_tomatoes_small[0]
    teacher_dir = save_classifier(the_teacher(train), tmp_path / "teacher", train.label_names)
    run_dir = tmp_path / "run"
    common = ["distill", "--teacher", str(teacher_dir), "--train-limit", "160",
              "--dev-limit", "48", "--test-limit", "48", "--init", "albertize",
              "--embedding-dim", "16", "--hidden-weight", "1", "--batch-size", "16",
              "--learning-rate", "1e-3", "--augment", "training-split", "--augment-max", "16",
              "--run-dir", str(run_dir)]

    assert main(common + ["--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "agreement" in out and "teacher cache  computed" in out
    student = load_classifier(run_dir / "student")
    assert isinstance(student.backbone, keras_hub.models.AlbertBackbone)
    assert student.backbone.embedding_dim == 16 and student.backbone.num_groups == 1

    assert main(common + ["--epochs", "2", "--resume"]) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_done"] == 2 and metrics["teacher_cache"] == "reused"
    assert metrics["augmentation_examples"] == 16  # unlabelled training-split texts
    assert metrics["transfer"]["hidden_pairs"] == [[1, 1], [2, 2]]
    assert set(metrics["test"]) == {"student", "teacher", "agreement"}

    # Without --resume an existing run is never overwritten.
    assert main(common + ["--epochs", "2"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_distill_command_turns_bad_input_into_one_line(rotten_tomatoes_small, tmp_path, capsys):
    train = rotten_tomatoes_small[0]
    teacher_dir = save_classifier(the_teacher(train), tmp_path / "teacher", train.label_names)
    base = ["distill", "--teacher", str(teacher_dir), "--train-limit", "32", "--dev-limit", "8",
            "--test-limit", "8", "--run-dir", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as exit_info:  # the flag's type is DistillConfig's check
        main(base + ["--layer-map", "1-2"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--layer-map" in err and "student:teacher" in err
    assert main(base + ["--init", "truncate"]) == 2
    err = capsys.readouterr().err
    assert "albertize" in err and len(err.strip().splitlines()) == 1
    # Annealed sharing starts from distinct layers: a shared-layer student is refused.
    assert main(base + ["--embedding-dim", "16", "--num-groups", "1", "--num-layers", "2",
                        "--share-groups", "1"]) == 2
    err = capsys.readouterr().err
    assert "num_groups = num_layers" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exit_info:  # argparse's own check of the range
        main(base + ["--alpha", "2"])
    assert exit_info.value.code == 2 and "[0, 1]" in capsys.readouterr().err
