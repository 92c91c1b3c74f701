"""A tiny tagger learns Brown POS tags above the majority-tag baseline; save / load is exact."""

import numpy as np


def test_tiny_tagger_beats_the_majority_tag(trained_tagger, brown_splits):
    from albert_tf.text.token_pipeline import evaluate_tagger

    tagger, _, summary = trained_tagger
    train, _, test = brown_splits
    report = evaluate_tagger(tagger, test, majority_tag=train.majority_tag())
    assert report["majority_tag"] == "NOUN"
    # words past the sequence length count as wrong, so this is a conservative score
    assert report["token_accuracy"] > report["majority_tag_accuracy"] + 0.15
    assert summary["best_dev_accuracy"] > 0.5
    assert len(summary["history"]) == 5 and "val_accuracy" in summary["history"][0]


def test_saved_tagger_loads_exactly(trained_tagger, brown_splits):
    from albert_tf.tagging.model import AlbertTokenClassifier, load_tag_names, load_token_classifier
    from albert_tf.text.token_pipeline import predict_words

    tagger, folder, _ = trained_tagger
    loaded = load_token_classifier(folder)
    assert isinstance(loaded, AlbertTokenClassifier)
    assert loaded.preprocessor.sequence_length == tagger.preprocessor.sequence_length
    assert load_tag_names(folder, 12) == brown_splits[0].tag_names
    words = brown_splits[2].words[:5]
    a, b = predict_words(tagger, words), predict_words(loaded, words)
    assert a.tag_ids == b.tag_ids
    for x, y in zip(a.probabilities, b.probabilities):
        np.testing.assert_allclose(x, y, atol=1e-5)


def test_finetune_refuses_to_overwrite_a_run(trained_tagger, brown_splits, tmp_path):
    import pytest

    import albert_tf
    from albert_tf.errors import UserError

    tagger, folder, _ = trained_tagger
    with pytest.raises(UserError, match="already holds a checkpoint"):
        albert_tf.finetune(tagger, brown_splits, run_dir=folder.parent)
