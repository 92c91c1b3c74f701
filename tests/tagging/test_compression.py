"""The compression chain on a tagger: pruning, per-token distillation (the one distiller),
TFLite, raw-text SavedModel."""

import numpy as np
import pytest


def test_structured_pruning_then_distillation(trained_tagger, brown_splits):
    from albert_tf.compress.distill import distill
    from albert_tf.compress.prune import (
        PruneConfig,
        StructuredPruneConfig,
        UnstructuredPruneConfig,
        prune,
    )
    from albert_tf.data.splits import Splits
    from albert_tf.tagging.config import TokenDistillConfig
    from albert_tf.tagging.model import AlbertSlimTokenClassifier
    from albert_tf.text.token_pipeline import evaluate_tagger

    teacher, _, _ = trained_tagger
    train, dev, test = brown_splits
    student, metrics = prune(teacher, PruneConfig(
        structured=StructuredPruneConfig(heads_fraction=0.5, ffn_fraction=0.5),
        unstructured=UnstructuredPruneConfig(sparsity=0.5)))
    assert isinstance(student, AlbertSlimTokenClassifier)  # head size kept, heads halved
    assert student.backbone.num_heads == 1
    assert metrics["parameters_after"] < metrics["parameters_before"]
    assert metrics["nonzero_parameters_after"] < 0.75 * metrics["parameters_after"]
    kept = student.output_dense.get_weights()[0]  # the head: copied, then magnitude-pruned
    original = teacher.output_dense.get_weights()[0]
    np.testing.assert_array_equal(kept[kept != 0], original[kept != 0])
    before = evaluate_tagger(student, dev)["token_accuracy"]
    student, result = distill(teacher, student, Splits(train, dev, None),
                              TokenDistillConfig(epochs=2, batch_size=16, learning_rate=3e-3),
                              verbose=0)
    assert result["history"][0]["agreement"] > 0
    assert result["dev"]["student"]["token_accuracy"] == \
        evaluate_tagger(student, dev)["token_accuracy"]
    after = evaluate_tagger(student, test, majority_tag=train.majority_tag())
    assert after["token_accuracy"] > after["majority_tag_accuracy"]
    assert evaluate_tagger(student, dev)["token_accuracy"] >= before - 0.02


def test_taylor_importance_and_fine_tuning_on_the_training_sentences(trained_tagger,
                                                                     brown_splits):
    """The one prune stage batches a tagger's sentences through its task adapter (weighted
    first sub-tokens), for Taylor scores and for the fine-tuning steps."""
    from albert_tf.compress.prune import PruneConfig, StructuredPruneConfig, prune
    from albert_tf.tagging.model import load_token_classifier

    _, folder, _ = trained_tagger
    tagger = load_token_classifier(folder)  # pruned in place: not the shared fixture
    pruned, metrics = prune(tagger, PruneConfig(
        structured=StructuredPruneConfig(ffn_fraction=0.5, importance="taylor",
                                         calibration_batches=2),
        fine_tune_steps=3, batch_size=16), brown_splits[0])
    assert metrics["structured"]["importance"] == "taylor"
    assert pruned.backbone.intermediate_dim == tagger.backbone.intermediate_dim // 2
    assert pruned.output_dense.get_weights()[0].shape == tagger.output_dense.get_weights()[0].shape
    assert np.isfinite(metrics["fine_tune"]["loss"])  # 3 steps on aligned (x, y, weights)


def test_distillation_resumes_after_its_last_finished_epoch(trained_tagger, brown_splits,
                                                            tmp_path):
    from albert_tf.compress.distill import distill
    from albert_tf.compress.prune import PruneConfig, StructuredPruneConfig, prune
    from albert_tf.data.splits import Splits
    from albert_tf.errors import UserError
    from albert_tf.tagging.config import TokenDistillConfig
    from albert_tf.tagging.model import load_token_classifier, save_token_classifier

    teacher, _, _ = trained_tagger
    train, dev, _ = brown_splits
    splits = Splits(train, dev, None)
    parent = tmp_path / "pruned"
    pruned, _ = prune(teacher, PruneConfig(
        structured=StructuredPruneConfig(ffn_fraction=0.5)))
    save_token_classifier(pruned, parent, list(train.tag_names))
    work = tmp_path / "work"
    config = TokenDistillConfig(epochs=2, batch_size=16, learning_rate=3e-3)
    # A run that stopped after its first epoch (what a kill leaves: epoch 1's checkpoint).
    _, first = distill(teacher, load_token_classifier(parent), splits,
                       TokenDistillConfig(epochs=1, batch_size=16, learning_rate=3e-3),
                       run_dir=work, verbose=0)
    with pytest.raises(UserError, match="already holds a distillation checkpoint"):
        distill(teacher, load_token_classifier(parent), splits, config, run_dir=work, verbose=0)
    _, resumed = distill(teacher, load_token_classifier(parent), splits, config, run_dir=work,
                         resume=True, verbose=0)
    assert len(resumed["history"]) == 2  # only epoch 2 ran
    assert resumed["history"][0] == first["history"][0]
    assert resumed["teacher_cache"] == "reused"
    assert [e["epoch"] for e in resumed["history"]] == [1, 2]


def test_distillation_needs_the_teachers_tokenizer(trained_tagger, tiny_tagger_factory,
                                                   brown_splits):
    from albert_tf.compress.distill import distill
    from albert_tf.errors import UserError

    teacher, _, _ = trained_tagger
    other_length = tiny_tagger_factory(sequence_length=32)
    with pytest.raises(UserError, match="sequence lengths differ"):
        distill(teacher, other_length, brown_splits)


def test_tflite_per_token_outputs(trained_tagger, brown_splits, tmp_path):
    """The classifiers' TFLite exporter takes a tagger: per-token probabilities out."""
    from albert_tf.deploy import TFLiteRunner, export_tflite
    from albert_tf.deploy.tagging_graph import tflite_word_predictions
    from albert_tf.errors import UserError
    from albert_tf.text.token_pipeline import INPUT_NAMES, predict_words

    tagger, _, _ = trained_tagger
    path = tmp_path / "tagger.tflite"
    report = export_tflite(tagger, path, "dynamic-int8", label_names=brown_splits[0].tag_names)
    assert path.is_file() and (tmp_path / "tagger.tflite.json").is_file()
    assert list(report["classifier"]["label_names"]) == list(brown_splits[0].tag_names)
    assert report["parity"]["same_tag_fraction"] > 0.9 and report["parity"]["passed"]
    packed = {name: np.ones((2, 48), np.int32) for name in INPUT_NAMES}
    assert TFLiteRunner(path).predict_packed(packed).shape == (2, 48, 12)
    with pytest.raises(UserError, match="unknown tagger TFLite mode 'int8'"):
        export_tflite(tagger, tmp_path / "int8.tflite", "int8")
    words = brown_splits[2].words[:10]
    lite = tflite_word_predictions(TFLiteRunner(path), tagger.preprocessor, words)
    keras_ids = predict_words(tagger, words).tag_ids
    same = np.mean([a == b for s, t in zip(lite.tag_ids, keras_ids) for a, b in zip(s, t)])
    assert same > 0.9
    assert [len(s) for s in lite.tag_ids] == [len(s) for s in words]


def test_raw_text_saved_model_returns_word_tags(trained_tagger, brown_splits, tmp_path):
    """The classifiers' TF Serving writer takes a tagger: raw text in, word tags out, with
    the same layout, warm-up records and parity gate."""
    import tensorflow as tf

    from albert_tf.deploy import export_saved_model
    from albert_tf.deploy.serving_warmup import replay_warmup_requests
    from albert_tf.deploy.tagging_graph import split_words
    from albert_tf.text.token_pipeline import predict_words

    tagger, _, _ = trained_tagger
    names = brown_splits[0].tag_names
    report = export_saved_model(tagger, tmp_path / "serving", "pos", 1, label_names=names)
    version = tmp_path / "serving" / "pos" / "1"
    assert report["path"] == str(version) and report["parity"]["same_tag_fraction"] == 1.0
    assert (tmp_path / "serving" / "models.config").is_file()
    replayed = replay_warmup_requests(version)  # each parity sentence, then all three
    assert [r["inputs"]["text"] for r in replayed] == [[1], [1], [1], [3]]
    served = tf.saved_model.load(str(version)).signatures["serving_default"]
    texts = ["The jury said it did find that many of the voters were misinformed.",
             "Hello, world."]
    out = served(text=tf.constant(texts))
    assert out["num_words"].numpy().tolist() == [14, 4]
    assert [w.decode() for w in out["words"].numpy()[1][:4]] == ["Hello", ",", "world", "."]
    words = [[w.decode() for w in s] for s in split_words(texts).to_list()]
    expected = predict_words(tagger, words).tag_names(names)
    got = [[t.decode() for t in row[:n]] for row, n in zip(out["tags"].numpy(),
                                                         out["num_words"].numpy())]
    assert got == expected
    assert out["tags"].numpy()[1][5] == b""  # padding past the sentence's end


def test_hidden_state_and_attention_transfer_teach_a_tagger(trained_tagger, brown_splits):
    from albert_tf.compress.distill import distill
    from albert_tf.compress.prune import PruneConfig, StructuredPruneConfig, prune
    from albert_tf.data.splits import Splits
    from albert_tf.tagging.config import TokenDistillConfig

    teacher, _, _ = trained_tagger
    train, dev, _ = brown_splits
    student, _ = prune(teacher, PruneConfig(
        structured=StructuredPruneConfig(ffn_fraction=0.5)))  # same heads and width
    _, metrics = distill(teacher, student, Splits(train.select(range(32)), dev.select(range(16)),
                                                  None),
                         TokenDistillConfig(epochs=1, batch_size=16, hidden_weight=1.0,
                                            attention_weight=1.0), verbose=0)
    assert metrics["transfer"] == {"hidden_pairs": [[1, 1], [2, 2]],
                                   "attention_pairs": [[1, 1], [2, 2]]}
    epoch = metrics["history"][0]
    assert epoch["hidden_loss"] > 0 and epoch["attention_loss"] > 0
    assert 0 < metrics["dev"]["student"]["token_accuracy"] <= 1
