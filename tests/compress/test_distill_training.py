"""`distill` end to end on real snippets: what the student learns, what the teacher keeps, the
cache and resume, cross-tokenizer soft labels."""

import json

import keras
import keras_hub
import numpy as np
import pytest
from distill_fixtures import has_the, the_teacher, tiny_student_shape, weights_snapshot

from albert_tf.compress.distill import (
    DistillConfig,
    SoftLabelDistillation,
    StudentInit,
    build_student,
    distill,
)
from albert_tf.compress.distill.augment import augmentation_texts, training_split_texts
from albert_tf.data import Splits
from albert_tf.errors import UserError
from albert_tf.models import detached_preprocessor, load_classifier
from albert_tf.text import tokenize


def logits_of(model, texts):
    inputs = tokenize(model.preprocessor, texts)
    with detached_preprocessor(model):
        return keras.ops.convert_to_numpy(model(inputs, training=False))


def scratch_student(teacher, seed=0, **init):
    keras.utils.set_random_seed(seed)
    return build_student(teacher, StudentInit("scratch", shape=tiny_student_shape(), **init))


def test_soft_labels_teach_the_teacher_better_than_hard_labels(rotten_tomatoes_small, tmp_path):
    train, dev, test = rotten_tomatoes_small
    teacher = the_teacher(train)  # knows whether a snippet contains "the", not its sentiment
    before = weights_snapshot(teacher)
    held_out = list(dev.texts) + list(test.texts)
    teacher_logits = logits_of(teacher, held_out)
    assert np.mean(teacher_logits.argmax(-1) == has_the(held_out)) > 0.65  # it learnt its task
    agreement, soft_loss = {}, {}
    for alpha in (1.0, 0.0):  # soft labels only, then hard labels only: same student, seed
        student = scratch_student(teacher)
        config = DistillConfig(alpha=alpha, temperature=2.0, epochs=6, batch_size=16,
                               learning_rate=3e-3, warmup_fraction=0.0, seed=0)
        initial = logits_of(student, held_out)
        student, metrics = distill(teacher, student, Splits(train, None, test), config,
                                   run_dir=tmp_path / f"alpha-{alpha}", verbose=0)
        final = logits_of(student, held_out)
        agreement[alpha] = float(np.mean(final.argmax(-1) == teacher_logits.argmax(-1)))
        loss = SoftLabelDistillation(2.0)
        soft_loss[alpha] = [float(loss.compute_loss(teacher_logits, x)) for x in (initial, final)]
        assert len(metrics["history"]) == 6 and metrics["teacher_cache"] == "computed"
        test_part = slice(len(dev.texts), None)
        assert metrics["test"]["agreement"] == pytest.approx(np.mean(
            final[test_part].argmax(-1) == teacher_logits[test_part].argmax(-1)))
    # Distillation lowers the distillation loss, on held-out snippets too.
    assert soft_loss[1.0][1] < 0.85 * soft_loss[1.0][0], soft_loss
    assert soft_loss[1.0][1] < soft_loss[0.0][1]
    # The distilled student agrees with its teacher on unseen snippets far more often.
    assert agreement[1.0] >= agreement[0.0] + 0.1, agreement
    # Inference only: not one teacher weight moved.
    for a, b in zip(before, weights_snapshot(teacher)):
        np.testing.assert_array_equal(a, b)


def test_resume_reuses_the_cached_teacher_outputs(rotten_tomatoes_small, tmp_path):
    train, dev, test = rotten_tomatoes_small
    teacher = the_teacher(train)
    run_dir = tmp_path / "run"
    # A narrower student (hidden 16, teacher 32) learns hidden states through a projection,
    # and attention head by head (2 heads each); Brown sentences add teacher-labelled text.
    config = DistillConfig(epochs=1, batch_size=32, learning_rate=2e-3, hidden_weight=1.0,
                           attention_weight=1.0, augment_sources=("brown-corpus",),
                           augment_max_texts=64)
    shape = tiny_student_shape(hidden_dim=16, intermediate_dim=32)

    def student():
        keras.utils.set_random_seed(1)
        return build_student(teacher, StudentInit("scratch", shape=shape))

    _, first = distill(teacher, student(), Splits(train, dev, test), config, run_dir, verbose=0)
    assert first["teacher_cache"] == "computed" and first["augmentation_examples"] == 64
    assert first["transfer"] == {"hidden_pairs": [[1, 1], [2, 2]],
                                 "attention_pairs": [[1, 1], [2, 2]]}
    cache = sorted((run_dir / "teacher_cache" / "train").glob("*.npy"))
    assert [p.name for p in cache] == ["attention_1.npy", "attention_2.npy", "hidden_1.npy",
                                       "hidden_2.npy", "logits.npy"]
    assert np.load(cache[-1]).shape == (len(train) + 64, 2)
    stamps = {p.name: p.stat().st_mtime_ns for p in cache}

    with pytest.raises(UserError, match="--resume"):
        distill(teacher, student(), Splits(train, dev, test), config, run_dir, verbose=0)
    with pytest.raises(UserError, match="different settings"):
        distill(teacher, student(), Splits(train, dev, test),
                DistillConfig(**{**config.__dict__, "epochs": 2, "temperature": 4.0}),
                run_dir, resume=True, verbose=0)

    resumed_config = DistillConfig(**{**config.__dict__, "epochs": 2})
    resumed, second = distill(teacher, student(), Splits(train, dev, test), resumed_config,
                              run_dir, resume=True, verbose=0)
    assert second["teacher_cache"] == "reused"
    assert {p.name: p.stat().st_mtime_ns for p in cache} == stamps
    assert second["epochs_done"] == 2 and [h["epoch"] for h in second["history"]] == [1, 2]
    assert second["history"][0] == first["history"][0]
    assert all("hidden_loss" in h and "attention_loss" in h for h in second["history"])
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["epochs_done"] == 2
    loaded = load_classifier(run_dir / "student")
    texts = dev.texts[:8]
    np.testing.assert_allclose(logits_of(loaded, texts), logits_of(resumed, texts), atol=1e-5)


def test_soft_labels_cross_tokenizers_but_hidden_states_do_not(rotten_tomatoes_small,
                                                                  sentencepiece_model, tmp_path):
    train, dev, _ = rotten_tomatoes_small
    teacher = the_teacher(train)
    student = scratch_student(teacher, tokenizer=sentencepiece_model)
    assert isinstance(student.preprocessor.tokenizer, keras_hub.models.AlbertTokenizer)
    with pytest.raises(UserError, match="share one tokenizer"):
        distill(teacher, student, Splits(train, dev, None),
                DistillConfig(hidden_weight=1.0, epochs=1), tmp_path / "hidden", verbose=0)
    config = DistillConfig(alpha=1.0, epochs=4, batch_size=16, learning_rate=3e-3)
    student, metrics = distill(teacher, student, Splits(train, dev, None), config,
                               tmp_path / "soft", verbose=0)
    assert metrics["shared_tokenizer"] is False
    soft = [h["soft_loss"] for h in metrics["history"]]
    assert soft[-1] < 0.8 * soft[0], soft
    assert "test" not in metrics and 0 <= metrics["dev"]["agreement"] <= 1


def test_augmentation_texts_are_new_deduplicated_and_sampled():
    texts = augmentation_texts(
        (), extra_texts=["A fine film indeed", "a  FINE film indeed", "too short",
                         "the training text is here", "another new review text"],
        exclude_texts=["The training text is here"], max_texts=10, min_words=4)
    assert texts == ["A fine film indeed", "another new review text"]
    many = [f"unlabelled review number {i}" for i in range(50)]
    sample = augmentation_texts((), many, max_texts=7, seed=3)
    assert len(sample) == 7 and sample == augmentation_texts((), many, max_texts=7, seed=3)
    assert set(sample) <= set(many)


def test_training_split_augmentation_is_the_unlabelled_rest_of_the_split(rotten_tomatoes_small,
                                                                       tmp_path):
    from albert_tf.data.spec import DataSpec

    train, dev, test = rotten_tomatoes_small
    whole = training_split_texts(DataSpec(source="rotten-tomatoes", train_limit=400,
                                          dev_limit=100, test_limit=100))
    assert len(whole) > 20 * len(train) and set(train.texts) <= set(whole)
    assert not set(whole) & (set(dev.texts) | set(test.texts))
    extra = augmentation_texts(("training-split",), whole,
                               [*train.texts, *dev.texts, *test.texts], max_texts=50)
    assert len(extra) == 50 and set(extra) <= set(whole) and not set(extra) & set(train.texts)
    # Only the caller knows the data source: without the texts, one clear error.
    teacher = the_teacher(train)
    with pytest.raises(UserError, match="training-split"):
        distill(teacher, scratch_student(teacher), Splits(train, dev, None),
                DistillConfig(augment_sources=("training-split",), epochs=1),
                tmp_path / "run", verbose=0)


def test_movie_snippets_augmentation_leaves_out_every_dev_and_test_text(rotten_tomatoes_small):
    from albert_tf.compress.distill.augment import augmentation_texts, source_texts
    from albert_tf.data import normalized_text_key

    _, dev, test = rotten_tomatoes_small
    held_out = {normalized_text_key(t) for t in list(dev.texts) + list(test.texts)}
    snippets = source_texts("movie-snippets")
    # Both sources are Rotten Tomatoes snippets: some held-out texts are among them.
    assert held_out & {normalized_text_key(t) for t in snippets}
    kept = augmentation_texts(("movie-snippets",), exclude_texts=list(dev.texts) + list(test.texts),
                              max_texts=10**6, min_words=0)
    assert not held_out & {normalized_text_key(t) for t in kept}
    assert len(kept) > 0.9 * len(snippets) - len(held_out)
