"""`albert-tf prune` end to end on a saved classifier and real rotten-tomatoes text."""

import json

import keras
import keras_hub
import numpy as np
import pytest

from albert_tf.cli import main


@pytest.fixture(scope="module")
def prune_saved_classifier(tmp_path_factory, sentencepiece_model):
    from albert_tf.models import save_classifier

    keras.utils.set_random_seed(0)
    tokenizer = keras_hub.models.AlbertTokenizer(proto=sentencepiece_model)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=4, num_heads=4, embedding_dim=16,
        hidden_dim=32, intermediate_dim=64, max_sequence_length=32)
    preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(tokenizer,
                                                                     sequence_length=32)
    classifier = keras_hub.models.AlbertTextClassifier(backbone, num_classes=2,
                                                       preprocessor=preprocessor)
    folder = tmp_path_factory.mktemp("prune_cli") / "model"
    return save_classifier(classifier, folder, ["fresh", "rotten"])


def test_structured_and_unstructured_with_fine_tuning(tmp_path, prune_saved_classifier,
                                                      rotten_tomatoes_small, capsys):
    output = tmp_path / "pruned"
    code = main(["prune", str(prune_saved_classifier), str(output),
                 "--heads-fraction", "0.5", "--ffn-fraction", "0.5", "--depth", "2",
                 "--sparsity", "0.5", "--exclude", "logits", "--fine-tune-steps", "3",
                 "--frequency", "1", "--end-step", "2", "--batch-size", "16",
                 "--train-limit", "400", "--dev-limit", "100", "--test-limit", "100",
                 "--evaluate"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "test accuracy (after)" in printed
    metrics = json.loads((output / "prune_metrics.json").read_text())
    assert metrics["structured"]["shape_after"]["num_heads"] == 2
    assert metrics["structured"]["shape_after"]["num_layers"] == 2
    assert metrics["sparsity"] == pytest.approx(0.5, abs=0.01)
    assert {"test_before", "test_after"} <= set(metrics)
    loaded = keras_hub.models.TextClassifier.from_preset(str(output))
    assert loaded.backbone.num_heads == 2 and loaded.backbone.intermediate_dim == 32
    assert json.loads((output / "label_names.json").read_text()) == ["fresh", "rotten"]
    assert loaded.predict(["a tender, moving story"], verbose=0).shape == (1, 2)


def test_one_shot_structured_pruning_needs_no_data(tmp_path, prune_saved_classifier):
    output = tmp_path / "slim"
    assert main(["prune", str(prune_saved_classifier), str(output), "--ffn-fraction", "0.25",
                 "--depth", "1"]) == 0
    loaded = keras_hub.models.TextClassifier.from_preset(str(output))
    assert (loaded.backbone.num_layers, loaded.backbone.intermediate_dim) == (1, 48)
    original = keras_hub.models.TextClassifier.from_preset(str(prune_saved_classifier))
    assert np.isclose(original.count_params() - loaded.count_params(), 16 * (2 * 32 + 1))


@pytest.mark.parametrize("arguments, message", [
    (["--depth", "9"], "exceeds"),
    (["--heads-fraction", "0.9"], "would remove all"),
    ([], "nothing to prune"),
])
def test_bad_requests_exit_2_with_one_line(tmp_path, prune_saved_classifier, capsys, arguments,
                                          message):
    code = main(["prune", str(prune_saved_classifier), str(tmp_path / "out"), *arguments])
    error = capsys.readouterr().err
    assert code == 2
    assert message in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_model_folder_exits_2(tmp_path, capsys):
    assert main(["prune", str(tmp_path / "none"), str(tmp_path / "out"), "--depth", "1"]) == 2
    assert "no task.json" in capsys.readouterr().err


def test_an_output_folder_with_files_is_kept_unless_overwrite_is_given(
        tmp_path, prune_saved_classifier, capsys):
    output = tmp_path / "mine"
    output.mkdir()
    (output / "notes.txt").write_text("my notes")
    argv = ["prune", str(prune_saved_classifier), str(output), "--ffn-fraction", "0.25"]
    assert main(argv) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in output.iterdir()] == ["notes.txt"]  # nothing deleted
    assert main([*argv, "--overwrite"]) == 0
    assert (output / "task.json").is_file() and not (output / "notes.txt").exists()


@pytest.mark.parametrize("make_target, message", [
    (lambda tmp: tmp / "file.txt", "is a file"),
    (lambda tmp: tmp / "file.txt" / "model", "file.txt is a file, not a folder"),
])
def test_an_output_path_that_cannot_be_a_folder_is_one_line(
        tmp_path, prune_saved_classifier, capsys, make_target, message):
    (tmp_path / "file.txt").write_text("x")
    assert main(["prune", str(prune_saved_classifier), str(make_target(tmp_path)),
                 "--ffn-fraction", "0.25"]) == 2
    assert message in capsys.readouterr().err
