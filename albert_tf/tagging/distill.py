"""Distil a token classifier into a smaller one with per-token soft labels.

Teacher and student share the tokenizer and the sequence length, so their sub-token positions
line up one to one: at every word's first sub-token the student matches the teacher's softened
tag distribution (`T² · KL`, Hinton et al.) and the true tag (cross-entropy), mixed by `alpha`.
Continuation sub-tokens, `[CLS]`, `[SEP]` and padding are masked out of both terms, as in
fine-tuning. The teacher runs once over the data; its logits are kept in memory. Each epoch
ends with a checkpoint (student weights, optimizer state), so a killed run resumes after it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os

import keras
import numpy as np
from keras import ops

from albert_tf.errors import UserError
from albert_tf.tagging.config import TokenDistillConfig
from albert_tf.tagging.examples import TaggedSentences
from albert_tf.tagging.pipeline import INPUT_NAMES, align_arrays, length_buckets

logger = logging.getLogger(__name__)


def token_soft_label_loss(teacher_logits, student_logits, weights, temperature: float):
    """`T² · KL(softmax(t/T) ‖ softmax(s/T))` averaged over the positions with weight > 0.

    Args:
        teacher_logits, student_logits: `[batch, sequence, tags]`.
        weights: `[batch, sequence]`, positive at labelled positions.
        temperature: T.
    """
    t = ops.log_softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)
    s = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)
    kl = ops.sum(ops.exp(t) * (t - s), axis=-1)
    weights = ops.cast(weights, "float32")
    return ops.sum(kl * weights) / ops.maximum(ops.sum(weights), 1e-9) * temperature**2


def token_hard_label_loss(labels, student_logits, weights):
    """Cross-entropy with the true tags averaged over the positions with weight > 0."""
    ce = keras.losses.sparse_categorical_crossentropy(
        ops.cast(labels, "int32"), ops.cast(student_logits, "float32"), from_logits=True)
    weights = ops.cast(weights, "float32")
    return ops.sum(ce * weights) / ops.maximum(ops.sum(weights), 1e-9)


class TokenDistiller(keras.Model):
    """The student with the per-token distillation loss; `y` holds `labels` and
    `teacher_logits`, the sample weights mark each word's first sub-token.

    Args:
        student: the token classifier being trained.
        temperature: T.
        alpha: weight of the soft-label term.
    """

    def __init__(self, student, temperature: float, alpha: float, **kwargs):
        super().__init__(name="token_distiller", **kwargs)
        self.student = student
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.soft_tracker = keras.metrics.Mean(name="soft_loss")
        self.hard_tracker = keras.metrics.Mean(name="hard_loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.agreement_tracker = keras.metrics.Mean(name="agreement")

    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        soft = token_soft_label_loss(y["teacher_logits"], y_pred, sample_weight, self.temperature)
        hard = token_hard_label_loss(y["labels"], y_pred, sample_weight)
        self.soft_tracker.update_state(soft)
        self.hard_tracker.update_state(hard)
        self.accuracy_tracker.update_state(y["labels"], y_pred, sample_weight=sample_weight)
        agree = ops.cast(ops.equal(ops.argmax(y_pred, -1), ops.argmax(y["teacher_logits"], -1)),
                         "float32")
        self.agreement_tracker.update_state(agree, sample_weight=sample_weight)
        return self.alpha * soft + (1.0 - self.alpha) * hard

    @property
    def metrics(self):
        return [t for t in (self._loss_tracker, self.soft_tracker, self.hard_tracker,
                            self.accuracy_tracker, self.agreement_tracker) if t is not None]


def _check_aligned(teacher, student) -> None:
    t, s = teacher.preprocessor, student.preprocessor
    if t is None or s is None:
        raise UserError("teacher and student need their preprocessors (saved taggers keep them)")
    if t.tokenizer.get_vocabulary() != s.tokenizer.get_vocabulary():
        raise UserError("per-token distillation needs the teacher's tokenizer in the student "
                        "(sub-token positions must line up): build the student with the "
                        "teacher's tokenizer, or prune the teacher into the student")
    if t.sequence_length != s.sequence_length:
        raise UserError(f"teacher and student sequence lengths differ "
                        f"({t.sequence_length} vs {s.sequence_length}): they must match")
    if teacher.num_classes != student.num_classes:
        raise UserError(f"teacher has {teacher.num_classes} tags, student "
                        f"{student.num_classes}: they must match")


def _with_teacher_logits(teacher, data: TaggedSentences, batch_size: int):
    """Aligned arrays of `data` and the teacher's logits at every position (zero past each
    sentence's end: the teacher runs shortest sentences first, on batches trimmed to their
    longest sentence, and padding carries no weight in either loss)."""
    import tensorflow as tf

    from albert_tf.data.batches import TRIM_MULTIPLE

    infer = tf.function(lambda x: teacher(x, training=False), reduce_retracing=True)
    aligned = align_arrays(data, teacher.preprocessor)
    lengths = aligned["padding_mask"].sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    logits = np.zeros(aligned["token_ids"].shape + (teacher.num_classes,), np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = -(-int(lengths[rows].max()) // TRIM_MULTIPLE) * TRIM_MULTIPLE
        logits[rows, :width] = np.asarray(infer({name: aligned[name][rows, :width]
                                                 for name in INPUT_NAMES}), dtype=np.float32)
    return {**{name: aligned[name] for name in INPUT_NAMES}, "labels": aligned["labels"],
            "weights": (aligned["label_weights"] > 0).astype(np.float32),
            "teacher_logits": logits}


def _dataset(arrays: dict, batch_size: int, shuffle: bool, seed: int, first_pass: int = 0):
    from albert_tf.data.batches import array_batches

    return array_batches(arrays, batch_size, shuffle=shuffle, seed=seed,
                         first_pass=first_pass, **length_buckets(arrays)).map(
        lambda b: ({name: b[name] for name in INPUT_NAMES},
                   {"labels": b["labels"], "teacher_logits": b["teacher_logits"]},
                   b["weights"]))


def distill_tagger(teacher, student, train: TaggedSentences, dev: TaggedSentences,
                   config: TokenDistillConfig | None = None,
                   run_dir: str | os.PathLike | None = None, resume: bool = False,
                   verbose="auto"):
    """Train `student` (in place) on the teacher's per-token soft labels and the true tags.

    Args:
        teacher: a trained `AlbertTokenClassifier` (frozen).
        student: a token classifier with the teacher's tokenizer and sequence length, e.g. a
            pruned copy of the teacher or a smaller shape built with its tokenizer.
        train: training sentences.
        dev: dev sentences; the student keeps its weights from the best dev epoch.
        config: `TokenDistillConfig`.
        run_dir: folder for the per-epoch checkpoints (student weights and optimizer state);
            a temporary folder when None.
        resume: continue after the last finished epoch of the checkpoint in `run_dir`.
        verbose: Keras progress bars.

    Returns:
        `(student, metrics)` with the per-epoch history and the best dev accuracy
        (first-sub-token accuracy, as in fine-tuning).
    """
    import tempfile

    from albert_tf.train.checkpoint import CheckpointStore, TrainingState
    from albert_tf.train.config import FinetuneConfig
    from albert_tf.train.finetune import EpochCheckpoint, make_optimizer

    config = (config or TokenDistillConfig()).validate()
    _check_aligned(teacher, student)
    with contextlib.ExitStack() as stack:
        if run_dir is None:
            run_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="albert_tf_tagd_"))
        store = CheckpointStore(run_dir)
        if store.exists() and not resume:
            raise UserError(f"{run_dir} already holds a distillation checkpoint (epoch "
                            f"{store.load_state().epochs_done}): resume it or choose another "
                            "folder")
        teacher.trainable = False
        logger.info("teacher logits for %d train and %d dev sentences", len(train), len(dev))
        train_arrays = _with_teacher_logits(teacher, train, config.batch_size)
        dev_arrays = _with_teacher_logits(teacher, dev, config.batch_size)
        total_steps = math.ceil(len(train) / config.batch_size) * config.epochs
        optimizer = make_optimizer(FinetuneConfig(
            epochs=config.epochs, batch_size=config.batch_size,
            learning_rate=config.learning_rate, weight_decay=config.weight_decay,
            warmup_fraction=config.warmup_fraction), total_steps)
        distiller = TokenDistiller(student, config.temperature, config.alpha)
        distiller.compile(optimizer=optimizer)
        state = TrainingState()
        if store.exists():
            state = store.load_state()
            store.restore_last(distiller, state)
            logger.info("resuming distillation after epoch %d of %d", state.epochs_done,
                        config.epochs)
        if state.epochs_done < config.epochs:
            distiller.fit(
                _dataset(train_arrays, config.batch_size, True, config.seed, state.epochs_done),
                validation_data=_dataset(dev_arrays, config.batch_size, False, 0),
                epochs=config.epochs, initial_epoch=state.epochs_done,
                callbacks=[EpochCheckpoint(store, state, 0, len(train))], verbose=verbose)
        store.restore_best(distiller, state)
    metrics = {
        "config": dataclasses.asdict(config),
        "history": state.history,
        "best_epoch": state.best_epoch,
        "best_dev_accuracy": state.best_score,
        "teacher_dev_accuracy": float(
            (dev_arrays["teacher_logits"].argmax(-1) == dev_arrays["labels"])[
                dev_arrays["weights"] > 0].mean()),
        "teacher_parameters": int(teacher.count_params()),
        "student_parameters": int(student.count_params()),
    }
    return student, metrics
