"""Distillation losses, attention read-out and configuration checks (no training)."""

import keras
import keras_hub
import numpy as np
import pytest

from albert_tf.compress.distill import (
    AttentionDistillation,
    DistillConfig,
    HiddenStateDistillation,
    SoftLabelDistillation,
    parse_layer_map,
    uniform_layer_map,
)
from albert_tf.compress.distill.features import attention_probabilities
from albert_tf.errors import UserError


def numpy_log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def value(x):
    return float(keras.ops.convert_to_numpy(x))


def test_soft_label_loss_is_temperature_squared_kl():
    rng = np.random.default_rng(0)
    teacher, student = rng.normal(size=(8, 3)) * 3, rng.normal(size=(8, 3))
    temperature = 2.5
    log_t = numpy_log_softmax(teacher / temperature)
    log_s = numpy_log_softmax(student / temperature)
    expected = temperature**2 * np.mean(np.sum(np.exp(log_t) * (log_t - log_s), axis=-1))
    loss = SoftLabelDistillation(temperature).compute_loss(teacher.astype("float32"),
                                                           student.astype("float32"))
    assert value(loss) == pytest.approx(expected, rel=1e-5)
    # Keras' own class gives the same number only with an explicit KLDivergence instance.
    reference = keras.distillation.LogitsDistillation(
        temperature=temperature, loss=keras.losses.KLDivergence())
    assert value(reference.compute_loss(teacher.astype("float32"), student.astype("float32"))) \
        == pytest.approx(expected, rel=1e-4)
    assert value(SoftLabelDistillation(temperature).compute_loss(teacher, teacher)) == \
        pytest.approx(0.0, abs=1e-6)


def test_per_token_logit_losses_count_only_the_weighted_positions():
    from albert_tf.compress.distill.losses import hard_label_loss

    rng = np.random.default_rng(0)
    teacher = rng.normal(size=(1, 3, 4)).astype("float32")
    student = rng.normal(size=(1, 3, 4)).astype("float32")
    labels = np.array([[2, 0, 1]], "int32")
    weights = np.array([[1.0, 0.0, 1.0]], "float32")  # a tagger's first sub-tokens
    changed = student.copy()
    changed[0, 1] += 5.0  # an unweighted position may change freely
    soft = SoftLabelDistillation(2.0)
    a = value(soft.compute_loss(teacher, student, weights=weights))
    assert a == pytest.approx(value(soft.compute_loss(teacher, changed, weights=weights)))
    log_t, log_s = numpy_log_softmax(teacher[0] / 2), numpy_log_softmax(student[0] / 2)
    kl = np.sum(np.exp(log_t) * (log_t - log_s), axis=-1)
    assert a == pytest.approx(4.0 * (kl[0] + kl[2]) / 2, rel=1e-5)
    ce = -numpy_log_softmax(student[0])[np.arange(3), labels[0]]
    assert value(hard_label_loss(labels, changed, weights)) == \
        pytest.approx((ce[0] + ce[2]) / 2, rel=1e-5)


def test_hidden_state_loss_counts_only_real_tokens():
    rng = np.random.default_rng(1)
    teacher = rng.normal(size=(2, 5, 4)).astype("float32")
    student = teacher.copy()
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], "int32")
    student[mask == 0] += 100.0  # padded positions: anything goes
    loss = HiddenStateDistillation()
    assert value(loss.compute_loss(teacher, student, padding_mask=mask)) == pytest.approx(0.0)
    student[0, 1] += 2.0  # one real token off by 2 in each of 4 features
    assert value(loss.compute_loss(teacher, student, padding_mask=mask)) == \
        pytest.approx(4.0 / 5, rel=1e-5)  # squared error 4 averaged over 5 real tokens


def test_attention_loss_is_kl_over_real_query_rows():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(1, 2, 3, 3))
    teacher = np.exp(numpy_log_softmax(logits)).astype("float32")
    mask = np.array([[1, 1, 0]], "int32")
    student = teacher.copy()
    student[:, :, 2] = [1.0, 0.0, 0.0]  # a padded query row: ignored
    loss = AttentionDistillation()
    assert value(loss.compute_loss(teacher, student, padding_mask=mask)) == \
        pytest.approx(0.0, abs=1e-6)
    uniform = np.full_like(teacher, 1 / 3)
    expected = np.mean(np.sum(teacher * (np.log(teacher) - np.log(1 / 3)), axis=-1)[:, :, :2])
    assert value(loss.compute_loss(teacher, uniform, padding_mask=mask)) == \
        pytest.approx(expected, rel=1e-4)


def test_attention_read_out_matches_keras_multi_head_attention():
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=30, num_layers=1, num_heads=4, embedding_dim=8, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=8)
    encoder = backbone.transformer_layers[0][0]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    padding_mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], "int32")
    _, expected = encoder._self_attention_layer(
        x, x, attention_mask=padding_mask[:, None, :], return_attention_scores=True)
    ours = attention_probabilities(encoder, x, padding_mask)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours),
                               keras.ops.convert_to_numpy(expected), atol=1e-6)


def test_layer_maps():
    assert uniform_layer_map(3, 6) == ((1, 2), (2, 4), (3, 6))
    assert uniform_layer_map(2, 2) == ((1, 1), (2, 2))
    assert uniform_layer_map(4, 1) == ((1, 1), (2, 1), (3, 1), (4, 1))
    assert parse_layer_map("0:0, 1:3,2:6") == ((0, 0), (1, 3), (2, 6))
    with pytest.raises(UserError, match="student:teacher"):
        parse_layer_map("1-3")


@pytest.mark.parametrize("settings, message", [
    (dict(temperature=0), "temperature"),
    (dict(alpha=1.5), "alpha"),
    (dict(hidden_weight=-1), "hidden_weight"),
    (dict(augment_sources=("wikipedia",)), "augmentation source"),
    (dict(layer_map=((1, 1), (1, 2))), "twice"),
    (dict(cache_dtype="int8"), "cache_dtype"),
])
def test_bad_settings_are_user_errors(settings, message):
    with pytest.raises(UserError, match=message):
        DistillConfig(**settings)
    with pytest.raises(UserError, match="unknown distillation setting"):
        DistillConfig.from_dict({"temperture": 2})
