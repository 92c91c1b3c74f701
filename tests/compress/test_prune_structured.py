"""Structured pruning of ALBERT: heads, FFN neurons, depth; smaller models that save and load."""

import keras_hub
import numpy as np
import pytest
from prune_fixtures import outputs, tiny_albert_classifier, token_batch

from albert_tf.compress.prune import StructuredPruneConfig, structured_prune
from albert_tf.errors import UserError
from albert_tf.models.albert_slim import AlbertSlimBackbone, AlbertSlimTextClassifier

HIDDEN, HEADS, FFN = 16, 4, 24
HEAD_DIM = HIDDEN // HEADS


def encoder_parameters(hidden, heads, head_dim, intermediate):
    """Parameters of one keras-hub TransformerEncoder, counted by hand."""
    attention = 3 * (hidden * heads * head_dim + heads * head_dim) + heads * head_dim * hidden
    attention += hidden
    ffn = hidden * intermediate + intermediate + intermediate * hidden + hidden
    layer_norms = 2 * 2 * hidden
    return attention + ffn + layer_norms


@pytest.fixture(scope="module")
def prune_grouped_classifier():
    # 2 groups x 2 inner layers, each group applied twice: 4 distinct encoders, 8 calls.
    return tiny_albert_classifier(num_layers=4, num_heads=HEADS, hidden_dim=HIDDEN,
                                  intermediate_dim=FFN, num_groups=2, num_inner_repetitions=2)


@pytest.fixture(scope="module")
def prune_features():
    return token_batch(size=6)[0]


def test_removing_nothing_is_the_identity(prune_grouped_classifier, prune_features):
    pruned, report = structured_prune(prune_grouped_classifier, StructuredPruneConfig())
    assert type(pruned) is keras_hub.models.AlbertTextClassifier
    assert pruned is not prune_grouped_classifier
    np.testing.assert_allclose(outputs(pruned, prune_features),
                               outputs(prune_grouped_classifier, prune_features), atol=1e-6)
    assert report["parameters_after"] == report["parameters_before"]


@pytest.mark.parametrize("heads_fraction, ffn_fraction, heads_removed, neurons_removed", [
    (0.25, 0.0, 1, 0), (0.5, 0.0, 2, 0), (0.0, 0.5, 0, 12), (0.75, 0.25, 3, 6)])
def test_parameter_count_drops_exactly(prune_grouped_classifier, prune_features, heads_fraction,
                                       ffn_fraction, heads_removed, neurons_removed):
    config = StructuredPruneConfig(heads_fraction=heads_fraction, ffn_fraction=ffn_fraction)
    pruned, report = structured_prune(prune_grouped_classifier, config)
    per_encoder = (encoder_parameters(HIDDEN, HEADS, HEAD_DIM, FFN)
                   - encoder_parameters(HIDDEN, HEADS - heads_removed, HEAD_DIM,
                                        FFN - neurons_removed))
    assert per_encoder == (heads_removed * HEAD_DIM * (4 * HIDDEN + 3)
                           + neurons_removed * (2 * HIDDEN + 1))
    expected = prune_grouped_classifier.count_params() - 4 * per_encoder
    assert pruned.count_params() == report["parameters_after"] == expected
    backbone = pruned.backbone
    assert backbone.num_heads == HEADS - heads_removed
    assert backbone.intermediate_dim == FFN - neurons_removed
    # Each kept head keeps its size; the stock class is used only while it can describe that.
    assert isinstance(backbone, AlbertSlimBackbone) == (heads_removed > 0)
    assert outputs(pruned, prune_features).shape == (6, 2)


def test_sliced_model_computes_what_the_masked_original_computes(prune_features):
    """Removing heads / neurons equals zeroing their weights in the original model."""
    original = tiny_albert_classifier(num_layers=2, num_heads=HEADS, hidden_dim=HIDDEN,
                                      intermediate_dim=FFN)
    pruned, report = structured_prune(
        original, StructuredPruneConfig(heads_fraction=0.5, ffn_fraction=0.5))
    encoder = original.backbone.transformer_layers[0][0]
    kept_heads = report["kept"]["heads"][0][0]
    kept_neurons = report["kept"]["neurons"][0][0]
    dropped_heads = [h for h in range(HEADS) if h not in kept_heads]
    dropped_neurons = [n for n in range(FFN) if n not in kept_neurons]
    output_kernel = encoder._self_attention_layer._output_dense.kernel
    value = output_kernel.numpy()
    value[dropped_heads] = 0
    output_kernel.assign(value)
    ffn_out = encoder._feedforward_output_dense.kernel
    value = ffn_out.numpy()
    value[dropped_neurons] = 0
    ffn_out.assign(value)
    np.testing.assert_allclose(outputs(pruned, prune_features),
                               outputs(original, prune_features), atol=1e-5)


def test_depth_pruning_of_a_shared_layer_keeps_parameters(prune_features):
    shared = tiny_albert_classifier(num_layers=4, num_groups=1)
    pruned, report = structured_prune(shared, StructuredPruneConfig(depth=2))
    assert pruned.backbone.num_layers == 2
    assert report["parameters_after"] == report["parameters_before"]
    # The shared layer now runs twice instead of four times: the outputs change.
    assert not np.allclose(outputs(pruned, prune_features), outputs(shared, prune_features))


def test_depth_pruning_with_groups(prune_grouped_classifier):
    encoder = encoder_parameters(HIDDEN, HEADS, HEAD_DIM, FFN)
    fewer_repetitions, _ = structured_prune(prune_grouped_classifier,
                                            StructuredPruneConfig(depth=2))
    assert fewer_repetitions.backbone.num_groups == 2
    assert fewer_repetitions.count_params() == prune_grouped_classifier.count_params()
    one_group, _ = structured_prune(prune_grouped_classifier,
                                    StructuredPruneConfig(depth=2, keep_groups=1))
    assert (one_group.backbone.num_layers, one_group.backbone.num_groups) == (2, 1)
    assert one_group.count_params() == prune_grouped_classifier.count_params() - 2 * encoder
    one_inner, _ = structured_prune(prune_grouped_classifier,
                                    StructuredPruneConfig(keep_inner_repetitions=1))
    assert one_inner.backbone.num_inner_repetitions == 1
    assert one_inner.count_params() == prune_grouped_classifier.count_params() - 2 * encoder
    with pytest.raises(UserError, match="multiple of num_groups"):
        structured_prune(prune_grouped_classifier, StructuredPruneConfig(depth=3))
    with pytest.raises(UserError, match="multiple of keep_groups"):
        structured_prune(prune_grouped_classifier, StructuredPruneConfig(depth=3, keep_groups=2))


def test_pruned_model_saves_and_loads_as_a_preset(tmp_path, prune_grouped_classifier,
                                                  prune_features):
    pruned, _ = structured_prune(prune_grouped_classifier, StructuredPruneConfig(
        heads_fraction=0.5, ffn_fraction=0.5, depth=2, keep_groups=1))
    assert type(pruned) is AlbertSlimTextClassifier
    pruned.save_to_preset(str(tmp_path))
    for cls in (keras_hub.models.TextClassifier, keras_hub.models.AlbertTextClassifier):
        loaded = cls.from_preset(str(tmp_path))
        assert type(loaded) is AlbertSlimTextClassifier
        assert loaded.backbone.get_config() == pruned.backbone.get_config()
        np.testing.assert_array_equal(outputs(loaded, prune_features),
                                      outputs(pruned, prune_features))
    # Pruning a slim model again keeps its head size.
    again, _ = structured_prune(loaded, StructuredPruneConfig(heads_fraction=0.5))
    assert again.backbone.num_heads == 1 and again.backbone.head_dim == HEAD_DIM


def test_taylor_importance_uses_gradients(prune_grouped_classifier):
    features, labels = token_batch(size=8)
    batches = [(features, labels)]
    taylor, report = structured_prune(prune_grouped_classifier, StructuredPruneConfig(
        heads_fraction=0.5, ffn_fraction=0.5, importance="taylor"), calibration_data=batches)
    magnitude, magnitude_report = structured_prune(prune_grouped_classifier,
                                                   StructuredPruneConfig(heads_fraction=0.5,
                                                                         ffn_fraction=0.5))
    assert taylor.count_params() == magnitude.count_params()
    assert report["kept"]["neurons"] != magnitude_report["kept"]["neurons"]
    with pytest.raises(UserError):
        structured_prune(prune_grouped_classifier,
                         StructuredPruneConfig(importance="taylor"))


@pytest.mark.parametrize("settings", [
    dict(heads_fraction=1.0),
    dict(ffn_fraction=-0.1),
    dict(heads_fraction=0.9),  # would leave no head of 4
    dict(depth=5),
    dict(keep_groups=3),
    dict(importance="random"),
])
def test_bad_configurations_are_user_errors(prune_grouped_classifier, settings):
    with pytest.raises(UserError):  # out-of-range values already when the config is built
        config = StructuredPruneConfig(**settings)
        structured_prune(prune_grouped_classifier, config)


def test_only_albert_models_are_accepted():
    backbone = keras_hub.models.BertBackbone(vocabulary_size=20, num_layers=1, num_heads=2,
                                             hidden_dim=8, intermediate_dim=8,
                                             max_sequence_length=8)
    with pytest.raises(UserError, match="ALBERT"):
        structured_prune(backbone, StructuredPruneConfig(heads_fraction=0.5))


def test_pruned_model_exports_to_a_saved_model(tmp_path, prune_features):
    import tensorflow as tf

    pruned, _ = structured_prune(tiny_albert_classifier(),
                                 StructuredPruneConfig(heads_fraction=0.5, ffn_fraction=0.5))
    pruned.export(str(tmp_path / "saved_model"), format="tf_saved_model", verbose=False)
    saved_model = tf.saved_model.load(str(tmp_path / "saved_model"))
    served = saved_model.serve(prune_features)
    np.testing.assert_allclose(np.asarray(served), outputs(pruned, prune_features), atol=1e-6)
