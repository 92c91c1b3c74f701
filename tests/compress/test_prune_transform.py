"""The pruning stage `prune(model, config, data)`: one-shot, and fine-tuning on real data."""

import keras
import keras_hub
import numpy as np
import pytest
from prune_fixtures import tiny_albert_classifier

from albert_tf.compress.prune import (
    PruneConfig,
    StructuredPruneConfig,
    UnstructuredPruneConfig,
    prune,
    pruning_states,
)
from albert_tf.errors import UserError


def test_one_shot_structured_then_unstructured_needs_no_data():
    model = tiny_albert_classifier(num_layers=2)
    config = PruneConfig(structured=StructuredPruneConfig(heads_fraction=0.5, ffn_fraction=0.5),
                         unstructured=UnstructuredPruneConfig(sparsity=0.7, exclude=["logits"]))
    pruned, metrics = prune(model, config)
    assert metrics["parameters_after"] < metrics["parameters_before"]
    assert metrics["sparsity"] == pytest.approx(0.7, abs=0.01)
    assert "logits/kernel" not in metrics["weight_sparsity"]
    assert not np.any(pruned.output_dense.kernel.numpy() == 0)
    assert pruning_states(pruned) == []
    assert metrics["nonzero_parameters_after"] < 0.5 * metrics["nonzero_parameters_before"]


def test_schedule_defaults_end_on_a_step_that_runs():
    schedule = UnstructuredPruneConfig(sparsity=0.8).make_schedule(fine_tune_steps=50)
    assert schedule.end_step <= 50 and schedule.should_prune(schedule.end_step)
    assert schedule.sparsity_at(schedule.end_step) == pytest.approx(0.8)
    with pytest.raises(UserError):
        UnstructuredPruneConfig(sparsity=0.8, end_step=80).make_schedule(fine_tune_steps=50)


@pytest.mark.parametrize("make_config", [
    lambda: PruneConfig(),
    lambda: PruneConfig(unstructured=UnstructuredPruneConfig(sparsity=0.5), fine_tune_steps=5),
    lambda: PruneConfig(structured=StructuredPruneConfig(importance="taylor")),
    lambda: PruneConfig(unstructured=UnstructuredPruneConfig(sparsity=1.5)),
])
def test_missing_data_or_bad_settings_are_user_errors(make_config):
    with pytest.raises(UserError):  # some when the config is built, the rest when it runs
        prune(tiny_albert_classifier(), make_config())


@pytest.fixture(scope="module")
def prune_rt_classifier(sentencepiece_model):
    """A tiny ALBERT with a real tokenizer (trained on rotten-tomatoes) and preprocessor."""
    keras.utils.set_random_seed(0)
    tokenizer = keras_hub.models.AlbertTokenizer(proto=sentencepiece_model)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2, num_heads=4, embedding_dim=16,
        hidden_dim=32, intermediate_dim=64, max_sequence_length=32)
    preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(tokenizer,
                                                                     sequence_length=32)
    return keras_hub.models.AlbertTextClassifier(backbone, num_classes=2,
                                                 preprocessor=preprocessor)


def test_taylor_structured_and_scheduled_sparsity_while_fine_tuning(prune_rt_classifier,
                                                                    rotten_tomatoes_small):
    from albert_tf.text import make_dataset

    train = rotten_tomatoes_small[0]
    data = make_dataset(train, prune_rt_classifier.preprocessor, batch_size=16, shuffle=True)
    config = PruneConfig(
        structured=StructuredPruneConfig(heads_fraction=0.25, importance="taylor",
                                         calibration_batches=2),
        unstructured=UnstructuredPruneConfig(sparsity=0.6, frequency=2, end_step=4),
        fine_tune_steps=6, learning_rate=1e-3)
    pruned, metrics = prune(prune_rt_classifier, config, data=data)
    assert pruned.backbone.num_heads == 3
    assert pruned.preprocessor is prune_rt_classifier.preprocessor
    assert metrics["schedule"]["config"]["end_step"] == 4
    assert set(metrics["fine_tune"]) >= {"loss", "accuracy"}
    assert metrics["sparsity"] == pytest.approx(0.6, abs=0.01)
    # The preprocessor is back in place: raw text goes in, logits come out.
    assert pruned.predict(["a warm, funny film"], verbose=0).shape == (1, 2)
