"""Reading hidden states out of shared ALBERT layers, and `truncate` students."""

import keras
import keras_hub
import numpy as np
import pytest
from distill_fixtures import randomize_weights, tiny_bert_teacher, wordpiece_vocabulary

from albert_tf.compress.distill import encoder_calls, feature_model, truncate_student
from albert_tf.compress.distill.features import num_hidden_states
from albert_tf.errors import UserError
from albert_tf.text import tokenize


def albert_teacher(vocabulary, num_layers=4, num_groups=2, intermediate_dim=48, seed=0):
    """A random ALBERT classifier over a WordPiece vocabulary (keras-hub's AlbertBackbone
    takes any preprocessor whose ids fit its vocabulary)."""
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=len(vocabulary), num_layers=num_layers, num_heads=2, embedding_dim=8,
        hidden_dim=16, intermediate_dim=intermediate_dim, num_groups=num_groups,
        max_sequence_length=64)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=24)
    classifier = keras_hub.models.AlbertTextClassifier(
        backbone, num_classes=3, preprocessor=preprocessor, dropout=0.0)
    return randomize_weights(classifier, seed=seed)


def predict(model, inputs):
    """One eager call (tiny models: cheaper than tracing a predict function)."""
    return {k: keras.ops.convert_to_numpy(v) for k, v in model(inputs, training=False).items()}


def test_hidden_states_of_shared_layers_follow_the_call_order(rotten_tomatoes_small):
    train = rotten_tomatoes_small[0]
    vocabulary = wordpiece_vocabulary(train.texts)
    teacher = albert_teacher(vocabulary)
    calls = encoder_calls(teacher.backbone)
    groups = teacher.backbone.transformer_layers
    assert [c.layer for c in calls] == [groups[0][0], groups[0][0], groups[1][0], groups[1][0]]
    inputs = tokenize(teacher.preprocessor, train.texts[:16])
    outputs = predict(feature_model(teacher, range(5), [2]), inputs)
    # Replaying the calls by hand from the embedding output gives every hidden state.
    hidden = outputs["hidden_0"]
    for i, call in enumerate(calls, start=1):
        hidden = keras.ops.convert_to_numpy(call.layer(hidden, padding_mask=inputs["padding_mask"]))
        np.testing.assert_allclose(outputs[f"hidden_{i}"], hidden, atol=1e-5)
    logits = teacher.predict(train.texts[:16], verbose=0)  # the classifier itself, raw text in
    np.testing.assert_allclose(outputs["logits"], logits, atol=1e-5)
    attention = outputs["attention_2"]
    assert attention.shape == (16, 2, 24, 24)
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    padded_keys = inputs["padding_mask"][:, None, None, :] == 0
    assert np.all(np.where(padded_keys, attention, 0.0) < 1e-6)


def test_truncate_keeps_the_teacher_and_cuts_depth_exactly(rotten_tomatoes_small):
    train = rotten_tomatoes_small[0]
    teacher = albert_teacher(wordpiece_vocabulary(train.texts), num_groups=1)
    inputs = tokenize(teacher.preprocessor, train.texts[:16])
    teacher_out = predict(feature_model(teacher, range(5)), inputs)

    same = truncate_student(teacher)
    np.testing.assert_allclose(predict(feature_model(same, []), inputs)["logits"],
                               teacher_out["logits"], atol=1e-5)

    shallow = truncate_student(teacher, num_layers=2)
    assert num_hidden_states(shallow) == 2
    shallow_out = predict(feature_model(shallow, [2]), inputs)
    # Fewer calls of the shared layer: the student's last state is the teacher's second.
    np.testing.assert_allclose(shallow_out["hidden_2"], teacher_out["hidden_2"], atol=1e-5)
    assert shallow.count_params() == teacher.count_params()  # sharing: depth costs nothing


def test_truncate_narrows_the_feed_forward_block_by_importance(rotten_tomatoes_small):
    train = rotten_tomatoes_small[0]
    teacher = albert_teacher(wordpiece_vocabulary(train.texts), num_groups=1)
    layer = teacher.backbone.transformer_layers[0][0]
    w_in = keras.ops.convert_to_numpy(layer._feedforward_intermediate_dense.kernel)
    w_out = keras.ops.convert_to_numpy(layer._feedforward_output_dense.kernel)
    # Make units 5, 17 and 30 clearly the most important ones.
    w_in[:, [5, 17, 30]] *= 10
    layer._feedforward_intermediate_dense.kernel.assign(w_in)
    narrow = truncate_student(teacher, intermediate_dim=3)
    kept = keras.ops.convert_to_numpy(
        narrow.backbone.transformer_layers[0][0]._feedforward_intermediate_dense.kernel)
    np.testing.assert_array_equal(kept, w_in[:, [5, 17, 30]])
    kept_out = keras.ops.convert_to_numpy(
        narrow.backbone.transformer_layers[0][0]._feedforward_output_dense.kernel)
    np.testing.assert_array_equal(kept_out, w_out[[5, 17, 30]])
    assert narrow.count_params() < teacher.count_params()


def test_truncate_rejects_bert_teachers_and_bad_depths(rotten_tomatoes_small):
    vocabulary = wordpiece_vocabulary(rotten_tomatoes_small[0].texts)
    with pytest.raises(UserError, match="albertize"):
        truncate_student(tiny_bert_teacher(vocabulary))
    with pytest.raises(UserError, match="multiple of the teacher's num_groups"):
        truncate_student(albert_teacher(vocabulary, num_groups=2), num_layers=3)
