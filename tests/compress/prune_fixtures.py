"""Tiny ALBERT models and token batches shared by the pruning tests (helpers, not fixtures,
so they do not collide with other areas' conftest files)."""

import keras
import keras_hub
import numpy as np

VOCABULARY = 40
SEQUENCE = 8


def tiny_albert_classifier(num_layers=2, num_heads=4, hidden_dim=16, intermediate_dim=24,
                           num_groups=1, num_inner_repetitions=1, num_classes=2, seed=0):
    """A random-initialised keras-hub ALBERT classifier small enough for a unit test."""
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=VOCABULARY, num_layers=num_layers, num_heads=num_heads,
        embedding_dim=8, hidden_dim=hidden_dim, intermediate_dim=intermediate_dim,
        num_groups=num_groups, num_inner_repetitions=num_inner_repetitions,
        max_sequence_length=SEQUENCE)
    return keras_hub.models.AlbertTextClassifier(backbone, num_classes=num_classes,
                                                 preprocessor=None, dropout=0.0)


def token_batch(size=6, seed=1):
    """Token dicts with some padding, and labels that depend on the tokens (learnable)."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, VOCABULARY, size=(size, SEQUENCE)).astype("int32")
    lengths = rng.integers(3, SEQUENCE + 1, size=size)
    padding_mask = (np.arange(SEQUENCE)[None, :] < lengths[:, None]).astype("int32")
    token_ids = token_ids * padding_mask
    features = {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids),
                "padding_mask": padding_mask}
    labels = (token_ids[:, 1] % 2).astype("int32")
    return features, labels


def outputs(model, features):
    return keras.ops.convert_to_numpy(model(features, training=False))
