"""`albertize`: a BERT teacher as an ALBERT student (factorised embeddings, shared layers)."""

import keras
import keras_hub
import numpy as np
import pytest
from distill_fixtures import randomize_weights, tiny_bert_teacher, wordpiece_vocabulary

from albert_tf.compress.distill import albertize_student, factorize_embeddings, feature_model
from albert_tf.compress.distill.albertize import group_bounds, helmert_basis
from albert_tf.errors import UserError
from albert_tf.models import load_classifier, save_classifier
from albert_tf.text import tokenize


@pytest.fixture(scope="module")
def distill_random_bert(rotten_tomatoes_small):
    """A 2-layer BERT with every weight random (layer norms and biases included)."""
    keras.utils.set_random_seed(0)
    vocabulary = wordpiece_vocabulary(rotten_tomatoes_small[0].texts)
    return randomize_weights(tiny_bert_teacher(vocabulary, dropout=0.0), seed=0)


def features(model, inputs, layers=3):
    """Logits and hidden states 0..layers-1, from one eager call (tiny models: no tracing)."""
    outputs = feature_model(model, range(layers))(inputs, training=False)
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


def logits(model, inputs):
    return keras.ops.convert_to_numpy(model(inputs, training=False))


def test_albertize_with_full_width_and_no_sharing_reproduces_the_teacher(
        distill_random_bert, rotten_tomatoes_small):
    teacher = distill_random_bert
    texts = rotten_tomatoes_small[1].texts[:32]
    student = albertize_student(teacher, embedding_dim=32, num_groups=2)
    assert isinstance(student.backbone, keras_hub.models.AlbertBackbone)
    inputs = tokenize(teacher.preprocessor, texts)
    expected, got = features(teacher, inputs), features(student, inputs)
    for name in ("hidden_0", "hidden_1", "hidden_2", "logits"):
        np.testing.assert_allclose(got[name], expected[name], atol=2e-5, err_msg=name)
    # End to end on raw text, through the student's own (BERT) preprocessor.
    np.testing.assert_allclose(student.predict(texts, verbose=0), expected["logits"], atol=2e-5)


def test_albertized_student_keeps_the_wordpiece_ids_and_round_trips_as_a_preset(
        distill_random_bert, rotten_tomatoes_small, tmp_path):
    teacher = distill_random_bert
    texts = rotten_tomatoes_small[1].texts[:8]
    pairs = rotten_tomatoes_small[1].texts[8:16]
    student = albertize_student(teacher, embedding_dim=8, num_groups=1)
    for inputs in ((texts,), (texts, pairs)):
        ours = tokenize(student.preprocessor, *inputs)
        theirs = tokenize(teacher.preprocessor, *inputs)
        for name in ("token_ids", "segment_ids", "padding_mask"):
            np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    tokenizer = student.preprocessor.tokenizer
    assert ours["token_ids"][0, 0] == tokenizer.token_to_id("[CLS]")
    assert ours["segment_ids"].max() == 1  # pairs use segment 1
    shorter = albertize_student(teacher, embedding_dim=8, sequence_length=24)
    assert shorter.preprocessor.sequence_length == 24
    assert teacher.preprocessor.sequence_length == 32  # the teacher's own is untouched

    folder = save_classifier(student, tmp_path / "student", ["negative", "positive"])
    loaded = load_classifier(folder)
    assert type(loaded.backbone) is keras_hub.models.AlbertBackbone
    assert type(loaded.preprocessor) is keras_hub.models.BertTextClassifierPreprocessor
    inputs = tokenize(loaded.preprocessor, texts)
    np.testing.assert_allclose(logits(loaded, inputs), logits(student, inputs), atol=1e-6)


def test_narrower_embeddings_trade_accuracy_for_size(distill_random_bert, rotten_tomatoes_small):
    teacher = distill_random_bert
    inputs = tokenize(teacher.preprocessor, rotten_tomatoes_small[1].texts[:32])
    expected = features(teacher, inputs, layers=1)["hidden_0"]
    mask = inputs["padding_mask"].astype(bool)
    errors, sizes = [], []
    for width in (4, 12, 24, 32):
        student = albertize_student(teacher, embedding_dim=width, num_groups=2)
        got = features(student, inputs, layers=1)["hidden_0"]
        errors.append(float(np.mean(np.square(got - expected)[mask])))
        sizes.append(student.count_params())
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-9 < errors[0]
    assert sizes == sorted(sizes)


def test_factorisation_keeps_the_layer_norm_exact_at_full_width():
    rng = np.random.default_rng(0)
    hidden = 6
    token, position, segment = (rng.normal(size=(n, hidden)) for n in (20, 10, 2))
    gamma, beta = rng.normal(size=hidden) + 1, rng.normal(size=hidden)
    basis = helmert_basis(5)
    np.testing.assert_allclose(basis.T @ basis, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(basis.sum(axis=0), 0.0, atol=1e-12)
    f = factorize_embeddings(token, position, segment, gamma, beta, hidden)
    x = token[3] + position[7] + segment[1]
    bert = (x - x.mean()) / np.sqrt(x.var() + 1e-12) * gamma + beta
    z = f["token"][3] + f["position"][7] + f["segment"][1]
    normalized = (z - z.mean()) / np.sqrt(z.var() + 1e-12)
    albert = normalized @ f["projection_kernel"] + f["projection_bias"]
    np.testing.assert_allclose(albert, bert, atol=1e-9)
    assert f["kept_energy"] == pytest.approx(1.0)


def test_identical_layers_merge_without_loss(distill_random_bert, rotten_tomatoes_small):
    vocabulary = distill_random_bert.preprocessor.tokenizer.get_vocabulary()
    teacher = tiny_bert_teacher(vocabulary, dropout=0.0)
    teacher.set_weights(distill_random_bert.get_weights())
    layers = teacher.backbone.transformer_layers
    layers[1].set_weights(layers[0].get_weights())
    texts = rotten_tomatoes_small[1].texts[:16]
    inputs = tokenize(teacher.preprocessor, texts)
    expected = features(teacher, inputs)["logits"]
    for merge in ("average", "select"):
        student = albertize_student(teacher, embedding_dim=32, num_groups=1, merge=merge,
                                    calibration_texts=texts)
        assert len(student.backbone.transformer_layers) == 1
        np.testing.assert_allclose(features(student, inputs)["logits"], expected, atol=2e-5)


def test_select_keeps_one_teacher_layer_and_average_blends_them(distill_random_bert,
                                                                 rotten_tomatoes_small):
    teacher = distill_random_bert
    members = [layer.get_weights() for layer in teacher.backbone.transformer_layers]
    texts = rotten_tomatoes_small[0].texts[:32]
    selected = albertize_student(teacher, embedding_dim=16, merge="select",
                                 calibration_texts=texts)
    kept = selected.backbone.transformer_layers[0][0].get_weights()
    matches = [all(np.array_equal(a, b) for a, b in zip(kept, m)) for m in members]
    assert sum(matches) == 1
    averaged = albertize_student(teacher, embedding_dim=16, merge="average")
    blended = averaged.backbone.transformer_layers[0][0].get_weights()
    for got, first, second in zip(blended, *members):
        np.testing.assert_allclose(got, (first + second) / 2, atol=1e-6)


def test_group_bounds_cut_the_teacher_into_even_consecutive_runs():
    assert group_bounds(6, 3) == [0, 2, 4, 6]
    assert group_bounds(6, 4) == [0, 2, 3, 4, 6]
    assert group_bounds(6, 6) == list(range(7))
    assert group_bounds(3, 2) == [0, 2, 3]


def test_select_with_groups_that_do_not_divide_the_depth(rotten_tomatoes_small):
    """3 teacher layers, 2 groups: group 0 picks from layers 0-1, group 1 is layer 2 itself."""
    keras.utils.set_random_seed(0)
    vocabulary = wordpiece_vocabulary(rotten_tomatoes_small[0].texts)
    teacher = randomize_weights(tiny_bert_teacher(vocabulary, num_layers=3, dropout=0.0), seed=1)
    members = [layer.get_weights() for layer in teacher.backbone.transformer_layers]
    student = albertize_student(teacher, embedding_dim=16, num_groups=2, num_layers=2,
                                merge="select", calibration_texts=rotten_tomatoes_small[0].texts[:32])
    first, second = (group[0].get_weights() for group in student.backbone.transformer_layers)

    def same(a, b):
        return all(np.array_equal(x, y) for x, y in zip(a, b))

    assert same(first, members[0]) or same(first, members[1])
    assert same(second, members[2])


def test_albertize_rejects_what_it_cannot_do(distill_random_bert):
    with pytest.raises(UserError, match="calibration_texts"):
        albertize_student(distill_random_bert, embedding_dim=8, merge="select")
    with pytest.raises(UserError, match="num_groups must lie between 1 and the teacher's 2"):
        albertize_student(distill_random_bert, embedding_dim=8, num_groups=3)
    with pytest.raises(UserError, match="embedding_dim"):
        albertize_student(distill_random_bert, embedding_dim=64)
    albert = albertize_student(distill_random_bert, embedding_dim=8)
    with pytest.raises(UserError, match="BERT-family"):
        albertize_student(albert, embedding_dim=8)
