"""Training under `MirroredStrategy` and `MultiWorkerMirroredStrategy`: a loop of our own, and
which worker writes what.

Why not `model.fit`: under `MultiWorkerMirroredStrategy`, Keras 3.15's TF trainer builds the
model from the first distributed batch with `strategy.reduce("MEAN", batch)`, which raises on
dict inputs (ours all are). The loop here runs the model's own `train_step` / `test_step`
(its `compute_loss`, its optimizer, its metrics) in `strategy.run` over a distributed dataset,
so the loss code stays one; the default strategy keeps using `model.fit` / `model.evaluate`.

Checkpoints follow TensorFlow's multi-worker convention: every worker saves (so a save never
waits on a worker that skipped it), but only the chief's folder is kept; another worker saves
into a folder of its own under `run_dir/workers/` and deletes it at once. A resumed cluster
reads the chief's checkpoints, so the run folder must be on storage all workers see.
"""

from __future__ import annotations

import logging
import shutil
import weakref
from pathlib import Path

import keras

from albert_tf.train.checkpoint import CheckpointStore

logger = logging.getLogger(__name__)

WORKERS_FOLDER = "workers"
# model -> {step name: traced replicated step} (a run that calls `fit` once per chunk of steps
# traces its step once, as `model.fit` keeps its `train_function`); strategy -> its barrier.
_TRACED = weakref.WeakKeyDictionary()


def uses_own_loop(strategy) -> bool:
    """True for the strategies trained by `fit`'s own loop rather than Keras' `model.fit`."""
    import tensorflow as tf

    return isinstance(strategy, (tf.distribute.MirroredStrategy,
                                 tf.distribute.MultiWorkerMirroredStrategy))


def is_chief(strategy) -> bool:
    """Whether this process writes the run's outputs: the `chief` task, or worker 0 of a
    cluster without one; always, on one machine."""
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not cluster:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster)


def work_folder(run_dir: str | Path, strategy) -> Path:
    """Where this process writes: `run_dir` for the chief, `run_dir/workers/<type>-<index>`
    for the other workers (their caches, logs and outputs, never the chief's files)."""
    run_dir = Path(run_dir)
    if is_chief(strategy):
        return run_dir
    resolver = strategy.cluster_resolver
    return run_dir / WORKERS_FOLDER / f"{resolver.task_type}-{resolver.task_id}"


def barrier(strategy) -> None:
    """Wait until every worker gets here (an all-reduce of one number, traced once: run
    eagerly, the collective warns of its overhead at every call)."""
    import tensorflow as tf

    if strategy not in _TRACED:
        _TRACED[strategy] = tf.function(lambda: strategy.reduce(
            "SUM", strategy.run(lambda: tf.constant(1.0)), axis=None))
    _TRACED[strategy]()


class ClusterCheckpointStore(CheckpointStore):
    """The chief's checkpoints, read by every worker; a worker other than the chief writes
    its own into a temporary folder, deleted once written. Every save ends at a barrier, so
    no worker reads a checkpoint (the best weights, a resume) the chief is still writing.

    Args:
        run_dir: the run folder (the chief's).
        strategy: the `MultiWorkerMirroredStrategy` the run trains under.
    """

    def __init__(self, run_dir: str | Path, strategy):
        super().__init__(run_dir)
        self.strategy = strategy
        folder = work_folder(run_dir, strategy)
        self.scratch = None if folder == Path(run_dir) else CheckpointStore(folder)

    def save(self, model, state, improved: bool) -> None:
        if self.scratch is None:
            super().save(model, state, improved)
        else:
            self.scratch.save(model, state, improved)
            shutil.rmtree(self.scratch.folder, ignore_errors=True)
        barrier(self.strategy)


def checkpoint_store(run_dir: str | Path, strategy) -> CheckpointStore:
    """The checkpoint store of a run under `strategy` (see `ClusterCheckpointStore`)."""
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return ClusterCheckpointStore(run_dir, strategy)
    return CheckpointStore(run_dir)


def _distributed(strategy, data):
    """`data` (global batches) split across replicas: each worker keeps its share of every
    batch (sharding by data, so any dataset works and the global batch is what it was)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(data.with_options(options))


def _replicated(model, name: str):
    """`model.<name>(batch)` (`train_step`, `test_step`) on every replica, traced once."""
    import tensorflow as tf

    steps = _TRACED.setdefault(model, {})
    if name not in steps:
        strategy, step = model.distribute_strategy, getattr(model, name)

        @tf.function(reduce_retracing=True)
        def run(batch):
            strategy.run(step, args=(batch,))

        steps[name] = run
    return steps[name]


def _results(model) -> dict:
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def evaluate(model, data) -> dict:
    """`model.evaluate(data)` as a dict of floats, under the model's strategy."""
    strategy = model.distribute_strategy
    if not uses_own_loop(strategy):
        return {name: float(value) for name, value in
                model.evaluate(data, return_dict=True, verbose=0).items()}
    model.reset_metrics()
    step = _replicated(model, "test_step")
    for batch in _distributed(strategy, data):
        step(batch)
    return _results(model)


def fit(model, data, *, epochs: int, initial_epoch: int = 0, steps_per_epoch: int | None = None,
        validation_data=None, callbacks=(), verbose="auto") -> None:
    """Train `model` (compiled, built in its strategy's scope) like `model.fit`.

    The default strategy calls `model.fit` itself. Mirrored and multi-worker strategies run
    the model's `train_step` on every replica, each on its share of the global batch; after
    every epoch the callbacks get the same logs `fit` gives them (`loss`, the metrics,
    `val_*` with `validation_data`), so checkpoint callbacks work unchanged.

    Args:
        model: a compiled Keras model.
        data: a `tf.data.Dataset` of global batches.
        epochs: the epoch to stop after.
        initial_epoch: the epoch to start at (a resumed run).
        steps_per_epoch: batches per epoch (default: one pass over `data`).
        validation_data: a dataset scored after every epoch, or None.
        callbacks: Keras callbacks.
        verbose: progress bars ("auto", 0, 1, 2).
    """
    strategy = model.distribute_strategy
    if not uses_own_loop(strategy):
        model.fit(data, epochs=epochs, initial_epoch=initial_epoch,
                  steps_per_epoch=steps_per_epoch, validation_data=validation_data,
                  callbacks=list(callbacks), shuffle=False, verbose=verbose)
        return
    if not model.optimizer.built:
        with strategy.scope():  # slots made here, not inside the replicated step
            model.optimizer.build(model.trainable_variables)
    step = _replicated(model, "train_step")
    batches = _distributed(strategy, data)
    callback_list = keras.callbacks.CallbackList(
        list(callbacks), add_history=True, add_progbar=verbose != 0, model=model,
        verbose=1 if verbose == "auto" else verbose, epochs=epochs, steps=steps_per_epoch)
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for index, batch in enumerate(batches):
            if steps_per_epoch is not None and index >= steps_per_epoch:
                break
            callback_list.on_train_batch_begin(index)
            step(batch)
            callback_list.on_train_batch_end(index)
        logs = _results(model)
        if validation_data is not None:
            logs.update({f"val_{name}": value
                         for name, value in evaluate(model, validation_data).items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
