"""Unstructured magnitude pruning of keras-hub ALBERT: masks, training, strip_pruning."""

import keras
import numpy as np
import pytest
from prune_fixtures import outputs, tiny_albert_classifier, token_batch

from albert_tf.compress.prune import (
    ConstantSparsity,
    PolynomialDecay,
    UpdatePruningStep,
    find_prunable_weights,
    prune_low_magnitude,
    pruning_states,
    strip_pruning,
    weight_sparsity,
)
from albert_tf.compress.prune.masks import kept_count
from albert_tf.errors import UserError

# Per transformer layer: query, key, value, attention output, FFN in, FFN out.
KERNELS_PER_ENCODER = 6
# Token embeddings, segment embeddings, embedding projection, pooler, classification head.
KERNELS_OUTSIDE_ENCODERS = 5


def test_shared_layer_kernels_are_found_once():
    shared = tiny_albert_classifier(num_layers=3, num_groups=1)
    grouped = tiny_albert_classifier(num_layers=4, num_groups=2, num_inner_repetitions=2)
    assert len(find_prunable_weights(shared)) == KERNELS_OUTSIDE_ENCODERS + KERNELS_PER_ENCODER
    weights = find_prunable_weights(grouped)
    assert len(weights) == KERNELS_OUTSIDE_ENCODERS + 4 * KERNELS_PER_ENCODER
    assert len({w.path for w in weights}) == len(weights)
    kinds = {w.layer_kind for w in weights}
    assert kinds == {"Dense", "EinsumDense", "Embedding"}
    # EinsumDense kernels are viewed as (inputs, outputs) matrices.
    shapes = {w.path.split("/")[-2]: w.matrix_shape for w in weights}
    assert shapes["query"] == (16, 16) and shapes["attention_output"] == (16, 16)


def test_include_and_exclude_select_by_path():
    model = tiny_albert_classifier()
    paths = [w.path for w in find_prunable_weights(model, exclude=["logits", "embeddings$"])]
    assert not any("logits" in p or p.endswith("embeddings") for p in paths)
    only_attention = find_prunable_weights(model, include=["self_attention_layer"])
    assert len(only_attention) == 4


@pytest.mark.parametrize("sparsity", [0.5, 0.7, 0.9])
def test_every_pruned_weight_has_exactly_the_target_sparsity(sparsity):
    model = tiny_albert_classifier()
    prune_low_magnitude(model, ConstantSparsity(sparsity, begin_step=0))
    (state,) = pruning_states(model)
    state.update_masks(sparsity)
    for weight in find_prunable_weights(model):
        zeros = int(np.sum(weight.variable.numpy() == 0))
        assert zeros == weight.size - kept_count(weight.size, sparsity), weight.path


def test_pruning_keeps_variables_and_outputs_until_masks_are_updated():
    model = tiny_albert_classifier()
    features, _ = token_batch()
    before = outputs(model, features)
    paths = [v.path for v in model.weights]
    prune_low_magnitude(model, ConstantSparsity(0.5, begin_step=0))
    assert [v.path for v in model.weights] == paths
    np.testing.assert_array_equal(outputs(model, features), before)


@pytest.mark.slow  # trains for 15 s
def test_pruned_weights_stay_zero_through_training():
    model = tiny_albert_classifier()
    features, labels = token_batch(size=12)
    prune_low_magnitude(model, ConstantSparsity(0.6, begin_step=0, end_step=2, frequency=2))
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    pooled = model.backbone.get_layer("pooled_dense").kernel
    start = pooled.numpy().copy()
    model.fit(features, labels, batch_size=2, epochs=1, shuffle=False, verbose=0,
              callbacks=[UpdatePruningStep()])
    (state,) = pruning_states(model)
    assert state.step == 6
    for pruned in state.pruned:
        mask = pruned.mask.numpy()
        values = pruned.target.variable.numpy()
        assert 1 - mask.mean() == pytest.approx(
            1 - kept_count(mask.size, 0.6) / mask.size), pruned.target.path
        assert np.all(values[mask == 0] == 0), pruned.target.path
    # Training ran for four more steps after the last mask update and moved kept weights.
    after = pooled.numpy()
    (pooled_mask,) = [p.mask for p in state.pruned if p.target.variable is pooled]
    kept = pooled_mask.numpy() == 1
    assert not np.allclose(after[kept], start[kept])


def test_polynomial_schedule_reaches_final_sparsity_during_fit():
    model = tiny_albert_classifier()
    features, labels = token_batch(size=10)
    prune_low_magnitude(model, PolynomialDecay(0.2, 0.8, begin_step=0, end_step=4, frequency=2))
    # Eager steps: the callback does the same work, and a tiny model skips graph tracing.
    model.compile(optimizer="adam", run_eagerly=True,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(features, labels, batch_size=2, epochs=1, verbose=0,
              callbacks=[UpdatePruningStep()])
    strip_pruning(model)
    for path, sparsity in weight_sparsity(model).items():
        assert sparsity == pytest.approx(0.8, abs=0.02), path


def test_strip_pruning_leaves_a_plain_model_with_zeros_baked_in(tmp_path):
    model = tiny_albert_classifier()
    paths = [v.path for v in model.weights]
    prune_low_magnitude(model, ConstantSparsity(0.5, begin_step=0))
    pruning_states(model)[0].update_masks()
    stripped = strip_pruning(model)
    assert stripped is model
    assert pruning_states(stripped) == []
    assert [v.path for v in stripped.weights] == paths
    assert not any("mask" in v.path or "mask" in v.name for v in stripped.weights)
    assert all(s == pytest.approx(0.5, abs=0.01) for s in weight_sparsity(stripped).values())
    # A plain model again: it saves and loads like any keras-hub classifier.
    import keras_hub

    stripped.save_to_preset(str(tmp_path / "preset"))
    loaded = keras_hub.models.TextClassifier.from_preset(str(tmp_path / "preset"))
    features, _ = token_batch()
    np.testing.assert_allclose(outputs(loaded, features), outputs(stripped, features))


def test_block_and_two_of_four_patterns_on_attention_kernels():
    model = tiny_albert_classifier()
    prune_low_magnitude(model, ConstantSparsity(0.5, begin_step=0), block_size=(1, 4))
    pruning_states(model)[0].update_masks()
    query = model.backbone.transformer_layers[0][0]._self_attention_layer._query_dense.kernel
    tiles = (query.numpy().reshape(16, 16) == 0).reshape(16, 4, 4)
    assert np.all(tiles.all(-1) | ~tiles.any(-1))
    strip_pruning(model)

    model = tiny_albert_classifier()
    prune_low_magnitude(model, ConstantSparsity(0.5, begin_step=0), sparsity_m_by_n=(2, 4))
    pruning_states(model)[0].update_masks()
    output = model.backbone.transformer_layers[0][0]._self_attention_layer._output_dense.kernel
    matrix = output.numpy().reshape(16, 16)  # (heads * head_dim, hidden)
    assert np.all((matrix.reshape(4, 4, 16) == 0).sum(axis=1) == 2)
    # N:M applies to kernels only: the embedding tables stay dense.
    table = model.backbone.token_embedding.embeddings
    assert not np.any(table.numpy() == 0)


def test_misuse_is_reported_as_user_errors():
    model = tiny_albert_classifier()
    prune_low_magnitude(model, ConstantSparsity(0.5, begin_step=0))
    with pytest.raises(UserError):
        prune_low_magnitude(model, ConstantSparsity(0.5, begin_step=0))
    with pytest.raises(UserError):
        prune_low_magnitude(tiny_albert_classifier(), ConstantSparsity(0.5, 0),
                            block_size=(1, 4), sparsity_m_by_n=(2, 4))
    with pytest.raises(UserError):
        prune_low_magnitude(tiny_albert_classifier(), ConstantSparsity(0.5, 0),
                            include=["no_such_layer"])
    plain = tiny_albert_classifier()
    plain.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    features, labels = token_batch(size=2)
    with pytest.raises(UserError):
        plain.fit(features, labels, epochs=1, verbose=0, callbacks=[UpdatePruningStep()])
