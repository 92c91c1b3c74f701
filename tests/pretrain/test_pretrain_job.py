"""A real pre-training run of a tiny ALBERT on real text (40 Brown files): it learns, its
output is a preset every command takes, and a resumed run loses nothing."""

import json
import shutil

import numpy as np
import pytest

from albert_tf.errors import UserError
from albert_tf.pretrain.job import PretrainConfig, PretrainJob, run_pretrain_job

TINY = "albert-tiny"


def _job(corpus, steps=60, sequence_length=32):
    train = PretrainConfig(steps=steps, batch_size=16, learning_rate=2e-3, warmup_fraction=0.1,
                           checkpoint_every=30, seed=0)
    return PretrainJob(corpus=[str(corpus)], model=TINY, vocab_size=600,
                       sequence_length=sequence_length, held_out_fraction=0.1, train=train)


@pytest.fixture(scope="module")
def pretrained(brown_txt, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("pretrain") / "run"
    metrics = run_pretrain_job(_job(brown_txt), run_dir, verbose=0)
    return run_dir, metrics


def test_held_out_masked_lm_and_sentence_order_are_learned(pretrained):
    """An untrained model scores about 1/600 on masked tokens; 60 steps learn the most frequent
    pieces (measured: 0.039). Sentence order is scored on held-out documents' real pairs."""
    run_dir, metrics = pretrained
    history = metrics["history"]
    assert [h["step"] for h in history] == [30, 60]
    assert metrics["held_out_mlm_accuracy"] > 0.02
    assert history[-1]["val_mlm_loss"] < history[0]["val_mlm_loss"]
    assert 0 <= metrics["held_out_sop_accuracy"] <= 1
    corpus = metrics["corpus"]
    assert corpus["train_segment_pairs"] > 100 and corpus["held_out_examples"] > 10
    assert "used whole" in corpus["sources"][0]
    assert json.loads((run_dir / "metrics.json").read_text())["steps"] == 60


def test_the_output_is_a_preset_that_classifiers_and_taggers_start_from(pretrained):
    import keras_hub

    from albert_tf.models import build_classifier
    from albert_tf.tagging.model import build_token_classifier

    run_dir, _ = pretrained
    folder = run_dir / "model"
    saved = keras_hub.models.AlbertBackbone.from_preset(str(folder))
    classifier = build_classifier(str(folder), num_classes=2, sequence_length=32)
    tagger = build_token_classifier(str(folder), num_classes=12, sequence_length=32)
    for model in (classifier, tagger):
        for mine, theirs in zip(model.backbone.weights, saved.weights):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert classifier.backbone.dtype_policy.name == "float32"
    ids = classifier.preprocessor(["A fine day in Atlanta."])["token_ids"]
    assert int(np.asarray(ids)[0, 0]) == classifier.preprocessor.tokenizer.cls_token_id


def test_continued_pretraining_gets_the_heads_back(pretrained):
    from albert_tf.pretrain.model import (
        HEADS_FILE,
        build_pretrainer,
        head_layers,
        load_masked_lm,
        restore_heads,
    )

    run_dir, _ = pretrained
    masked_lm, tokenizer = load_masked_lm(str(run_dir / "model"))
    model = build_pretrainer(masked_lm)
    assert restore_heads(model, run_dir / "model")
    with np.load(run_dir / "model" / HEADS_FILE) as data:
        saved = [data[f"arr_{i}"] for i in range(len(data.files))]
    mine = [w.numpy() for layer in head_layers(model) for w in layer.weights]
    assert len(mine) == len(saved)
    for a, b in zip(mine, saved):
        np.testing.assert_array_equal(a, b)
    assert tokenizer.vocabulary_size() == masked_lm.backbone.vocabulary_size


def test_a_resumed_run_goes_on_from_its_last_checkpoint(pretrained, brown_txt, tmp_path):
    run_dir, metrics = pretrained
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    with pytest.raises(UserError, match="already holds a pre-training checkpoint"):
        run_pretrain_job(_job(brown_txt, steps=90), copy, verbose=0)
    with pytest.raises(UserError, match="sequence_length 32 -> 48"):
        run_pretrain_job(_job(brown_txt, steps=90, sequence_length=48), copy, resume=True,
                         verbose=0)
    longer = run_pretrain_job(_job(brown_txt, steps=90), copy, resume=True, verbose=0)
    assert [h["step"] for h in longer["history"]] == [30, 60, 90]
    assert longer["history"][:2] == metrics["history"]  # finished work kept as it was
    assert longer["corpus"] == metrics["corpus"]  # the same cached examples
