"""The replicated training loop (`albert_tf.train.distributed`) against Keras' own `fit`:
with one replica, the same steps give the same weights, metrics and callback logs."""

import numpy as np
import pytest


def _model_and_data():
    """A small two-input, two-output model (dict inputs and targets, like the pre-training
    model) with seeded initial weights, and 48 examples in batches of 8."""
    import keras
    import tensorflow as tf

    init = keras.initializers.GlorotUniform(seed=3)
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    hidden = keras.layers.Dense(16, activation="gelu", kernel_initializer=init)(
        keras.layers.Concatenate()([a, b]))
    model = keras.Model({"a": a, "b": b}, {
        "x": keras.layers.Dense(3, name="x", kernel_initializer=init)(hidden),
        "y": keras.layers.Dense(2, name="y", kernel_initializer=init)(hidden)})
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-2, global_clipnorm=1.0),
        loss={"x": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              "y": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
        weighted_metrics={"x": [keras.metrics.SparseCategoricalAccuracy("accuracy")],
                          "y": [keras.metrics.SparseCategoricalAccuracy("accuracy")]})
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(48, 6)).astype("float32"),
         "b": rng.normal(size=(48, 6)).astype("float32")}
    y = {"x": rng.integers(0, 3, 48), "y": rng.integers(0, 2, 48)}
    w = {"x": rng.uniform(0.5, 1, 48).astype("float32"), "y": np.ones(48, "float32")}
    return model, tf.data.Dataset.from_tensor_slices((x, y, w)).batch(8)


class _Logs:
    """Collects the epoch logs callbacks are given."""

    def __init__(self):
        import keras

        self.epochs = []
        collect = self.epochs
        self.callback = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: collect.append((epoch, dict(logs))))


def _train(strategy_name):
    from albert_tf.train.distributed import evaluate, fit
    from albert_tf.train.strategy import make_strategy

    strategy = make_strategy(strategy_name)
    with strategy.scope():
        model, data = _model_and_data()
    logs = _Logs()
    fit(model, data, epochs=3, initial_epoch=1, validation_data=data.take(2),
        callbacks=[logs.callback], verbose=0)
    return model, logs.epochs, evaluate(model, data)


def test_one_replica_trains_like_keras_fit():
    import tensorflow as tf

    from albert_tf.train.distributed import uses_own_loop

    if len(tf.config.list_logical_devices("CPU")) != 1:
        pytest.skip("this process has several logical CPUs: mirrored would use them all")
    keras_model, keras_logs, keras_scores = _train("default")
    own_model, own_logs, own_scores = _train("mirrored")
    assert uses_own_loop(own_model.distribute_strategy)
    assert not uses_own_loop(keras_model.distribute_strategy)
    assert int(own_model.optimizer.iterations.numpy()) == 2 * 6
    for mine, theirs in zip(own_model.weights, keras_model.weights):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    assert [epoch for epoch, _ in own_logs] == [epoch for epoch, _ in keras_logs] == [1, 2]
    for (_, mine), (_, theirs) in zip(own_logs, keras_logs):
        assert sorted(mine) == sorted(theirs)
        assert {"val_loss", "val_x_accuracy"} <= set(mine)
        for name in theirs:
            np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-5, atol=1e-6)
    assert sorted(own_scores) == sorted(keras_scores)
    for name in keras_scores:
        np.testing.assert_allclose(own_scores[name], keras_scores[name], rtol=1e-5, atol=1e-6)
