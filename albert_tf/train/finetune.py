"""The one fine-tuning loop, for every task: AdamW, linear warm-up and decay, clipping, early
stopping on dev, a checkpoint every epoch and resume, mixed precision and XLA switches,
TensorBoard logs. What differs between tasks is in the batches the task adapter builds
(`albert_tf.tasks`): a token classifier's carry sample weights that score each word's first
sub-token only, which the loss and the (weighted) accuracy both follow."""

import logging
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import keras

from albert_tf.errors import UserError
from albert_tf.train.checkpoint import CheckpointStore, TrainingState
from albert_tf.train.config import FinetuneConfig
from albert_tf.train.schedule import WarmupLinearDecay

logger = logging.getLogger(__name__)


def make_optimizer(config: FinetuneConfig, total_steps: int):
    """AdamW with the warm-up / linear-decay schedule, no decay on biases and LayerNorm."""
    schedule = WarmupLinearDecay(config.learning_rate,
                                 int(total_steps * config.warmup_fraction), total_steps)
    optimizer = keras.optimizers.AdamW(
        learning_rate=schedule, weight_decay=config.weight_decay,
        global_clipnorm=config.clip_norm or None)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: record the dev score, decide early stopping, write the checkpoint."""

    def __init__(self, store: CheckpointStore, state: TrainingState, patience: int,
                 examples_per_epoch: int):
        super().__init__()
        self.store, self.state = store, state
        self.patience = patience
        self.examples_per_epoch = examples_per_epoch
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        logs = dict(logs or {})
        entry = {k: float(v) for k, v in logs.items()}
        entry.update(epoch=epoch + 1, seconds=round(seconds, 2),
                     train_examples_per_second=round(self.examples_per_epoch / seconds, 2))
        state = self.state
        state.history.append(entry)
        state.epochs_done = epoch + 1
        score = logs.get("val_accuracy", logs.get("accuracy"))
        improved = state.best_score is None or score > state.best_score
        if improved:
            state.best_score, state.best_epoch = float(score), epoch + 1
            state.epochs_without_improvement = 0
        else:
            state.epochs_without_improvement += 1
        if self.patience and state.epochs_without_improvement >= self.patience:
            state.stopped_early = True
            self.model.stop_training = True
            logger.info("early stop after epoch %d: no dev improvement for %d epochs",
                        epoch + 1, self.patience)
        self.store.save(self.model, state, improved)


def finetune(model, train_ds, dev_ds, config: FinetuneConfig, run_dir: str | os.PathLike,
             train_examples: int, resume: bool = False, verbose="auto") -> dict:
    """Fine-tune `model` in place and return the training summary.

    Args:
        model: a keras-hub text classifier or an albert_tf token classifier, built inside the
            distribution strategy's scope and under the chosen dtype policy.
        train_ds: tokenised, shuffled `(x, y)` or `(x, y, sample_weight)` batches (the task
            adapter's `dataset`: `albert_tf.text.make_dataset`, `make_tagging_dataset`).
        dev_ds: the same kind of batches for early stopping.
        config: `FinetuneConfig`.
        run_dir: folder for `checkpoints/` and TensorBoard `logs/`.
        train_examples: number of training examples (for the schedule and throughput).
        resume: continue from the last checkpoint in `run_dir`.
        verbose: Keras progress bars ("auto", 0, 1 or 2).

    Returns:
        `{"history": [...per epoch...], "best_epoch", "best_dev_accuracy", "stopped_early",
        "epochs_done", "config"}`; the model ends with its best dev weights.
    """
    from albert_tf.models import detached_preprocessor
    from albert_tf.train.distributed import checkpoint_store, fit, work_folder

    run_dir = Path(run_dir)
    store = checkpoint_store(run_dir, model.distribute_strategy)
    if store.exists() and not resume:
        raise UserError(f"{run_dir} already holds a checkpoint (epoch "
                        f"{store.load_state().epochs_done}): pass --resume to continue it, "
                        "or choose another run folder")
    if resume and not store.exists():
        logger.info("no checkpoint in %s: starting from the beginning", run_dir)
    steps_per_epoch = math.ceil(train_examples / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    with model.distribute_strategy.scope():
        model.compile(
            optimizer=make_optimizer(config, total_steps),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            # Weighted: batches without sample weights score every example, as plain metrics
            # would; a tagger's score only the positions that carry a word's tag.
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=config.jit_compile,
        )
    state = TrainingState()
    if store.exists():
        state = store.load_state()
        store.restore_last(model, state)
        logger.info("resuming after epoch %d of %d", state.epochs_done, config.epochs)

    if state.epochs_done < config.epochs and not state.stopped_early:
        callbacks = [
            EpochCheckpoint(store, state, config.patience, train_examples),
            keras.callbacks.TensorBoard(
                log_dir=str(work_folder(run_dir, model.distribute_strategy) / "logs"),
                write_graph=False),
        ]
        with detached_preprocessor(model):
            fit(model, train_ds, validation_data=dev_ds, epochs=config.epochs,
                initial_epoch=state.epochs_done, callbacks=callbacks, verbose=verbose)
    store.restore_best(model, state)
    return {
        "history": state.history,
        "epochs_done": state.epochs_done,
        "best_epoch": state.best_epoch,
        "best_dev_accuracy": state.best_score,
        "stopped_early": state.stopped_early,
        "config": asdict(config),
    }
