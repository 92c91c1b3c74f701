"""A checkpoint write that fails (disk full, file too large) is one clear error and leaves the
previous checkpoint in force, with no temporary file behind. Hermetic: a tiny Keras model."""

import contextlib
import json
import resource
import signal

import keras
import numpy as np
import pytest

from albert_tf.errors import UserError
from albert_tf.train.checkpoint import CheckpointStore, TrainingState


@contextlib.contextmanager
def file_size_limit(limit_bytes):
    """The kernel refuses writes beyond `limit_bytes` (EFBIG) as a full disk refuses them
    (ENOSPC); SIGXFSZ is ignored so the write fails instead of killing the process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_failed_checkpoint_write_keeps_the_previous_one(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_variables)
    store = CheckpointStore(tmp_path)
    state = TrainingState(epochs_done=1)
    store.save(model, state, improved=False)
    first = [w.numpy().copy() for w in model.weights]
    for weight in model.weights:
        weight.assign(weight.numpy() + 1.0)
    state.epochs_done = 2
    with file_size_limit(4096), pytest.raises(UserError, match=r"could not write the checkpoint "
                                                              r".*epoch-002\.npz.*--resume"):
        store.save(model, state, improved=False)
    files = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert files == ["epoch-001.npz", "state.json"]
    saved = json.loads((tmp_path / "checkpoints" / "state.json").read_text())
    assert saved["epochs_done"] == 1 and saved["weights_file"] == "epoch-001.npz"
    store.restore_last(model, store.load_state())
    for got, expected in zip(model.weights, first):
        np.testing.assert_array_equal(got.numpy(), expected)
