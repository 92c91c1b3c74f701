"""Annealed cross-layer sharing: distinct layers (the teacher itself) pulled together, then tied.

Hermetic: synthetic texts over a small vocabulary, a tiny random BERT teacher.
"""

import keras
import numpy as np
import pytest
from distill_fixtures import randomize_weights, tiny_bert_teacher, wordpiece_vocabulary

from albert_tf.compress.distill import DistillConfig, albertize_student, distill
from albert_tf.compress.distill.sharing import (
    SharingAnneal,
    layer_calls,
    sharing_gap,
    target_groups,
    tie_layers,
)
from albert_tf.data import Splits, TextExamples
from albert_tf.errors import UserError
from albert_tf.text import tokenize

WORDS = ("good bad film plot acting dull great music long short funny sad the a of and was "
         "very not quite story cast scene").split()


def synthetic_texts(count, seed):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(4, 12))) for _ in range(count)]


@pytest.fixture
def teacher():
    """A 4-layer BERT with every weight random, and texts it reads."""
    texts = synthetic_texts(64, seed=0)
    model = tiny_bert_teacher(wordpiece_vocabulary(texts), num_layers=4, dropout=0.0)
    return randomize_weights(model, seed=1, scale=0.2), texts


class Steps:
    """Stands in for an optimizer: SharingAnneal reads only `iterations`."""

    def __init__(self):
        self.iterations = keras.Variable(0, dtype="int64")


def logits(model, inputs):
    return keras.ops.convert_to_numpy(model(inputs, training=False))


def test_distinct_layers_start_as_the_teacher_and_an_anneal_at_step_zero_changes_nothing(teacher):
    model, texts = teacher
    student = albertize_student(model, embedding_dim=32, num_groups=4)  # E = H, G = L
    inputs = tokenize(model.preprocessor, texts[:16])
    np.testing.assert_allclose(logits(student, inputs), logits(model, inputs), atol=2e-5)
    steps = Steps()
    anneal = SharingAnneal(student, num_groups=1, total_steps=10, optimizer=steps)
    anneal.on_train_begin()
    anneal.on_train_batch_end(0)  # no optimizer step taken yet: scale 1
    np.testing.assert_allclose(logits(student, inputs), logits(model, inputs), atol=2e-5)
    assert sharing_gap(student, 1) > 0.1


def test_the_gap_follows_the_schedule_and_ends_at_zero(teacher):
    model, _ = teacher
    student = albertize_student(model, embedding_dim=16, num_groups=4)
    steps = Steps()
    anneal = SharingAnneal(student, num_groups=2, total_steps=10, optimizer=steps)
    anneal.on_train_begin()
    start = sharing_gap(student, 2)
    steps.iterations.assign(5)  # halfway, in one call (steps_per_execution = 5)
    anneal.on_train_batch_end(0)
    # Deviations at half their size: squared, a quarter of the gap (the means do not move).
    assert sharing_gap(student, 2) == pytest.approx(start / 4, rel=1e-4)
    assert sharing_gap(student, 1) > sharing_gap(student, 2)  # only pairs were pulled together
    for step in range(6, 11):
        steps.iterations.assign(step)
        anneal.on_train_batch_end(0)
    assert sharing_gap(student, 2) < 1e-12
    layers = layer_calls(student)
    for a, b in ((0, 1), (2, 3)):
        for x, y in zip(layers[a].get_weights(), layers[b].get_weights()):
            np.testing.assert_array_equal(x, y)


def test_tying_identical_layers_keeps_the_outputs_and_shares_the_weights(teacher):
    model, texts = teacher
    student = albertize_student(model, embedding_dim=16, num_groups=4)
    steps = Steps()
    anneal = SharingAnneal(student, num_groups=2, total_steps=1, optimizer=steps)
    anneal.on_train_begin()
    steps.iterations.assign(1)
    anneal.on_train_batch_end(0)
    tied = tie_layers(student, 2)
    assert tied.backbone.num_groups == 2 and tied.backbone.num_layers == 4
    assert tied.count_params() < student.count_params()
    inputs = tokenize(model.preprocessor, texts[:16])
    np.testing.assert_allclose(logits(tied, inputs), logits(student, inputs), atol=1e-5)


def test_tying_distinct_layers_gives_each_group_its_mean(teacher):
    model, _ = teacher
    student = albertize_student(model, embedding_dim=16, num_groups=4)
    tied = tie_layers(student, 1)
    layers = layer_calls(student)
    for position, tensor in enumerate(tied.backbone.transformer_layers[0][0].get_weights()):
        mean = np.mean([layer.get_weights()[position] for layer in layers], axis=0)
        np.testing.assert_allclose(tensor, mean, atol=1e-6)


def test_groups_must_divide_the_calls_and_layers_must_be_distinct(teacher):
    model, _ = teacher
    assert target_groups(6, 2) == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(UserError, match="share_groups=4"):
        target_groups(6, 4)
    shared = albertize_student(model, embedding_dim=16, num_groups=1)
    with pytest.raises(UserError, match="num_groups = num_layers"):
        layer_calls(shared)
    with pytest.raises(UserError, match="share_groups must be >= 0"):
        DistillConfig(share_groups=-1)


@pytest.mark.parametrize("tie_epochs", [1, 0])
def test_distill_with_sharing_returns_a_tied_student_close_to_the_teacher(teacher, tmp_path,
                                                                          tie_epochs):
    model, _ = teacher
    keras.utils.set_random_seed(0)  # the teacher's dropout-free; seeds the student's head only
    texts = synthetic_texts(96, seed=2)
    teacher_labels = logits(model, tokenize(model.preprocessor, texts)).argmax(-1)
    data = TextExamples(texts, None, teacher_labels.astype(np.int32), ["a", "b"], "synthetic")
    splits = Splits(data.select(range(64)), data.select(range(64, 80)),
                    data.select(range(80, 96)))
    student = albertize_student(model, embedding_dim=32, num_groups=4)
    config = DistillConfig(epochs=2, batch_size=16, learning_rate=1e-3, share_groups=2,
                           share_tie_epochs=tie_epochs)
    tied, metrics = distill(model, student, splits, config, run_dir=tmp_path, verbose=0)
    assert tied.backbone.num_groups == 2
    assert metrics["sharing"]["gap_before"] > 0.1
    assert metrics["sharing"]["gap_after_anneal"] < 1e-10
    assert (tmp_path / "anneal").is_dir() and (tmp_path / "tied").is_dir()
    assert metrics["epochs_done"] == tie_epochs
    if tie_epochs:
        # The teacher's own labels: the tied student agrees with it on most dev texts.
        assert metrics["dev"]["agreement"] >= 0.75
    else:
        # Measured, not trained: tying identical layers changed no prediction.
        annealed = metrics["sharing"]["anneal"]["dev"]
        assert metrics["dev"]["agreement"] == annealed["agreement"]
        assert metrics["dev"]["student"]["accuracy"] == annealed["student"]
