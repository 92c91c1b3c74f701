"""`distill(teacher, student, data, config)`: train a student on a frozen teacher's outputs.

Why not `keras.distillation.Distiller` as it is: it runs the teacher on every batch of every
epoch and feeds both models the same `x`, so it can neither reuse cached teacher outputs nor
distil across two tokenizers; its feature transfer reads `layer.output`, which is ambiguous for
ALBERT's shared layer (one layer, several calls); and it has no learned projection for
different widths and no padding mask. `DistillationModel` keeps its shape (a `keras.Model`
whose `compute_loss` mixes a student loss with `DistillationLoss` terms, trained by `fit` with
Keras progress bars and callbacks) and takes the teacher's side from the cache instead.

One distiller for every task: what differs (how examples become model inputs and labels,
per-token label weights, trimmed batches, the final report) comes from the student's task
adapter (`albert_tf.tasks`). A token classifier's logits are `(batch, sequence, tags)` and its
batches carry `label_weights` (each word's first sub-token), which the logit losses, accuracy
and agreement follow; a sentence classifier's carry none.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from albert_tf.compress.distill.augment import augmentation_texts
from albert_tf.compress.distill.config import TRAINING_SPLIT, DistillConfig, uniform_layer_map
from albert_tf.compress.distill.dataset import distillation_dataset
from albert_tf.compress.distill.features import (
    attention_heads,
    check_logits_head,
    feature_model,
    hidden_width,
    num_hidden_states,
)
from albert_tf.compress.distill.losses import (
    AttentionDistillation,
    HiddenStateDistillation,
    SoftLabelDistillation,
    hard_label_loss,
)
from albert_tf.compress.distill.teacher_cache import pad_rows, teacher_outputs
from albert_tf.compress.distill.tokenization import require_shared_tokenizer, shares_tokenizer
from albert_tf.errors import UserError
from albert_tf.tasks.adapter import adapter_for
from albert_tf.text.pipeline import INPUT_NAMES
from albert_tf.train.finetune import make_optimizer

logger = logging.getLogger(__name__)

CONFIG_FILE = "distill_config.json"
METRICS_FILE = "metrics.json"
# Settings a resumed run may change (everything else must match the interrupted run).
_RESUMABLE_CHANGES = {"epochs", "patience", "strategy"}


@dataclasses.dataclass(frozen=True)
class TransferPlan:
    """Which student hidden states / attention maps learn from which teacher ones.

    Args:
        hidden_pairs: `(student, teacher)` hidden-state indices (0 = embedding output).
        attention_pairs: `(student, teacher)` encoder calls (1-based).
    """

    hidden_pairs: tuple[tuple[int, int], ...] = ()
    attention_pairs: tuple[tuple[int, int], ...] = ()


def plan_transfer(teacher, student, config: DistillConfig) -> TransferPlan:
    """Resolve and check the layer map for `config`'s hidden and attention transfer.

    Args:
        teacher: the teacher classifier.
        student: the student classifier.
        config: the run's `DistillConfig`.
    """
    if not config.uses_features:
        return TransferPlan()
    teacher_calls, student_calls = num_hidden_states(teacher), num_hidden_states(student)
    pairs = config.layer_map or uniform_layer_map(student_calls, teacher_calls)
    for s, t in pairs:
        if s > student_calls or t > teacher_calls:
            raise UserError(f"layer_map pair {s}:{t} is out of range: the student has hidden "
                            f"states 0..{student_calls}, the teacher 0..{teacher_calls}")
    hidden_pairs = pairs if config.hidden_weight > 0 else ()
    attention_pairs = ()
    if config.attention_weight > 0:
        teacher_heads, student_heads = attention_heads(teacher), attention_heads(student)
        if teacher_heads != student_heads:
            raise UserError(f"attention transfer compares heads one to one, but the teacher has "
                            f"{teacher_heads} heads and the student {student_heads}: give the "
                            "student as many heads, or set attention_weight=0")
        attention_pairs = tuple((s, t) for s, t in pairs if s > 0 and t > 0)
        if not attention_pairs:
            raise UserError("attention transfer needs layer_map pairs between encoder calls "
                            "(index >= 1), not only embedding outputs")
    return TransferPlan(tuple(hidden_pairs), attention_pairs)


class DistillationModel(keras.Model):
    """The student, read out at its logits and chosen features, with the distillation loss.

    `y` of every batch carries the teacher's side: `labels` (true or pseudo), `logits`, and
    `hidden_<s>` / `attention_<s>` keyed by the *student* index they teach.

    Args:
        student: the student classifier (its weights are the ones trained).
        config: the `DistillConfig` (temperature, alpha, weights).
        plan: the `TransferPlan`.
        teacher_width: the teacher's hidden width (a learned projection maps the student's
            hidden states to it when the widths differ).
    """

    def __init__(self, student, config: DistillConfig, plan: TransferPlan, teacher_width: int,
                 **kwargs):
        super().__init__(name="distiller", **kwargs)
        self.student = student
        self.config = config
        self.plan = plan
        self.features = feature_model(student, [s for s, _ in plan.hidden_pairs],
                                      [s for s, _ in plan.attention_pairs])
        self.projections = []
        if plan.hidden_pairs and hidden_width(student) != teacher_width:
            self.projections = [keras.layers.Dense(teacher_width, name=f"hidden_projection_{s}")
                                for s, _ in plan.hidden_pairs]
            for projection in self.projections:  # used only in the loss: build them now
                projection.build((None, None, hidden_width(student)))
        self.soft_loss = SoftLabelDistillation(config.temperature)
        self.hidden_loss = HiddenStateDistillation()
        self.attention_loss = AttentionDistillation()
        self.soft_loss_tracker = keras.metrics.Mean(name="soft_loss")
        self.hard_loss_tracker = keras.metrics.Mean(name="hard_loss")
        self.hidden_loss_tracker = keras.metrics.Mean(name="hidden_loss")
        self.attention_loss_tracker = keras.metrics.Mean(name="attention_loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.agreement_tracker = keras.metrics.Mean(name="agreement")

    def call(self, inputs, training=False):
        return self.features(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        config = self.config
        logits = y_pred["logits"]
        weights = y.get("label_weights")  # a token classifier's scored positions
        soft = self.soft_loss.compute_loss(y["logits"], logits, weights=weights)
        hard = hard_label_loss(y["labels"], logits, weights)
        total = config.alpha * soft + (1.0 - config.alpha) * hard
        padding_mask = x["padding_mask"]
        if self.plan.hidden_pairs:
            terms = []
            for i, (s, _) in enumerate(self.plan.hidden_pairs):
                student_hidden = y_pred[f"hidden_{s}"]
                if self.projections:
                    student_hidden = self.projections[i](student_hidden)
                terms.append(self.hidden_loss.compute_loss(
                    y[f"hidden_{s}"], student_hidden, padding_mask=padding_mask))
            hidden = keras.ops.mean(keras.ops.stack(terms))
            total = total + config.hidden_weight * hidden
            self.hidden_loss_tracker.update_state(hidden)
        if self.plan.attention_pairs:
            attention = keras.ops.mean(keras.ops.stack([
                self.attention_loss.compute_loss(y[f"attention_{s}"], y_pred[f"attention_{s}"],
                                                 padding_mask=padding_mask)
                for s, _ in self.plan.attention_pairs]))
            total = total + config.attention_weight * attention
            self.attention_loss_tracker.update_state(attention)
        self.soft_loss_tracker.update_state(soft)
        self.hard_loss_tracker.update_state(hard)
        self.accuracy_tracker.update_state(y["labels"], logits, sample_weight=weights)
        agree = keras.ops.equal(keras.ops.argmax(logits, axis=-1),
                                keras.ops.argmax(y["logits"], axis=-1))
        self.agreement_tracker.update_state(keras.ops.cast(agree, "float32"),
                                            sample_weight=weights)
        return total

    @property
    def metrics(self):
        trackers = [self._loss_tracker, self.soft_loss_tracker, self.hard_loss_tracker]
        if self.plan.hidden_pairs:
            trackers.append(self.hidden_loss_tracker)
        if self.plan.attention_pairs:
            trackers.append(self.attention_loss_tracker)
        return [t for t in trackers if t is not None] + [self.accuracy_tracker,
                                                        self.agreement_tracker]


class DevEvaluation(keras.callbacks.Callback):
    """After every epoch: the student's dev accuracy and agreement with the teacher.

    Writes `val_accuracy` (which the checkpoint callback uses to keep the best epoch) and
    `val_agreement` into the epoch's logs.

    Args:
        student: the student classifier.
        inputs: tokenised dev inputs for the student.
        labels: dev labels (a token classifier's: per position).
        teacher_logits: the teacher's dev logits.
        batch_size: examples per prediction batch.
        weights: None, or the weight of each label (a token classifier's scored positions).
    """

    def __init__(self, student, inputs, labels, teacher_logits, batch_size: int, weights=None):
        super().__init__()
        self.student, self.inputs, self.labels = student, inputs, labels
        self.teacher_predictions = np.argmax(teacher_logits, axis=-1)
        self.batch_size = batch_size
        self.weights = weights

    def on_epoch_end(self, epoch, logs=None):
        predictions = np.argmax(student_logits(self.student, self.inputs, self.batch_size), axis=-1)
        if logs is not None:
            logs["val_accuracy"] = _mean(predictions == self.labels, self.weights)
            logs["val_agreement"] = _mean(predictions == self.teacher_predictions, self.weights)


def _mean(hits: np.ndarray, weights=None) -> float:
    """Share of hits, or of the weighted positions' hits."""
    if weights is None:
        return float(np.mean(hits))
    return float(np.sum(hits * weights) / max(float(np.sum(weights)), 1e-9))


def student_logits(classifier, inputs: dict[str, np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Logits of a classifier on already tokenised inputs."""
    from albert_tf.models import detached_preprocessor

    count = len(inputs["token_ids"])
    # Whole batches only: a ragged last batch would trace the predict function again.
    padded = pad_rows(inputs, -(-count // batch_size) * batch_size)
    with detached_preprocessor(classifier):
        logits = classifier.predict(padded, batch_size=batch_size, verbose=0)
    return np.asarray(logits[:count], np.float32)


def _splits(data, adapter):
    """(train, dev or None, test or None) from a `Splits`-like object or the training
    examples alone (`TextExamples`, `TaggedSentences`)."""
    if hasattr(data, "train"):
        # Evaluation needs labels: an empty or unlabelled dev / test split is left out.
        parts = [getattr(data, name, None) for name in ("dev", "test")]
        return (data.train,) + tuple(
            p if p is not None and len(p) and getattr(p, "is_labelled", True) else None
            for p in parts)
    if adapter.owns_examples(data):
        return data, None, None
    raise UserError(f"data must be {adapter.examples} or Splits (with .train and optional .dev, "
                    f".test); received {type(data).__name__}")


def _split_arrays(adapter, teacher, student, examples, shared: bool, cache_folder: Path):
    """The student's arrays (inputs, labels, weights) for an evaluation split and the
    teacher's (cached) logits on it."""
    arrays = adapter.distillation_arrays(student, examples)
    teacher_inputs = _inputs(arrays if shared else adapter.distillation_arrays(teacher, examples))
    logits = teacher_outputs(teacher, teacher_inputs, cache_folder, batch_size=64, verbose=0,
                             lengths=adapter.distillation_lengths(arrays)).logits
    return arrays, logits


def _inputs(arrays: dict) -> dict:
    return {name: arrays[name] for name in INPUT_NAMES}


def _augmentation(config: DistillConfig, unlabelled_texts, train, dev, test) -> list[str]:
    """Unlabelled texts to add after the training texts (the teacher labels them; the task
    adapter refuses augmentation where it has no meaning)."""
    if not (config.augment_sources or unlabelled_texts):
        return []
    if getattr(train, "pairs", None) is not None:
        raise UserError("augmentation adds single texts, but this task uses text pairs: "
                        "drop the augmentation sources")
    if TRAINING_SPLIT in config.augment_sources and not unlabelled_texts:
        raise UserError("augmentation source training-split needs the training split's texts "
                        "as unlabelled_texts (recipes and `albert-tf distill` pass them)")
    exclude = [t for part in (train, dev, test) if part is not None
               for t in getattr(part, "texts", ())]
    return augmentation_texts(config.augment_sources, unlabelled_texts, exclude,
                              config.augment_max_texts, config.augment_min_words, config.seed)


def _evaluate(adapter, teacher, student, examples, shared: bool, cache_folder: Path,
              batch_size: int) -> dict:
    """The task's reports of student and teacher on labelled `examples`, and how often they
    agree (at the scored positions)."""
    arrays, teacher_logits = _split_arrays(adapter, teacher, student, examples, shared,
                                           cache_folder)
    logits = student_logits(student, _inputs(arrays), batch_size)
    agree = np.argmax(logits, -1) == np.argmax(teacher_logits, -1)
    return {
        "student": adapter.distillation_report(student, examples, logits),
        "teacher": adapter.distillation_report(teacher, examples, teacher_logits),
        "agreement": _mean(agree, arrays.get("label_weights")),
    }


def _student_strategy(student, config: DistillConfig):
    """The strategy the student was built under, which `config.strategy` must name: its
    weights are created by the strategy, so they cannot be moved under it afterwards."""
    from albert_tf.train.distributed import uses_own_loop

    strategy = student.distribute_strategy
    if (config.strategy != "default") != uses_own_loop(strategy):
        raise UserError(f"strategy {config.strategy!r} needs the student built inside "
                        f"`make_strategy({config.strategy!r}).scope()` (`albert-tf distill "
                        f"--strategy` does it); this one was built under "
                        f"{type(strategy).__name__}")
    return strategy


def _atomic_write_json(path: Path, payload) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=float))
    os.replace(tmp, path)


def distill(teacher, student, data, config: DistillConfig | None = None,
            run_dir: str | os.PathLike | None = None, resume: bool = False,
            unlabelled_texts=(), verbose="auto"):
    """Distil `teacher` into `student` (trained in place) and measure the result.

    Args:
        teacher: a keras-hub text classifier or an albert_tf token classifier with its
            preprocessor; only run for inference (its weights never change) and only once
            per example, through the cache.
        student: a model of the teacher's task with its preprocessor, e.g. from
            `build_student` (`scratch`, `truncate`, `albertize`) or pruned from the teacher
            (a token classifier must keep the teacher's tokenizer and sequence length).
        data: `Splits` (train; dev for per-epoch evaluation and choosing the best epoch;
            test for the final report) or the training examples alone (`TextExamples`,
            `TaggedSentences`).
        config: `DistillConfig`; defaults to soft labels with T=2, alpha=0.8.
        run_dir: folder for the teacher cache, checkpoints, the student preset and
            `metrics.json`; a temporary folder when None.
        resume: continue from the last finished epoch's checkpoint in `run_dir`.
        unlabelled_texts: extra in-domain texts without labels (teacher-labelled); with the
            "training-split" augmentation source, the whole training split's texts
            (`augment.training_split_texts`); labelled, dev and test texts are left out.
        verbose: Keras progress bars ("auto", 0, 1, 2).

    For a repeatable run, call `keras.utils.set_random_seed` before building the models (it
    cannot be called here: it clears TensorFlow's kernel cache, which breaks SentencePiece
    tokenizers that already exist).

    Returns:
        `(student, metrics)`; `metrics` holds, for dev and test, the reports of student and
        teacher and their agreement, parameter counts, the per-epoch history and whether the
        teacher cache was reused. The student is also saved (keras-hub preset) to
        `run_dir/student` and the metrics to `run_dir/metrics.json`.

    Examples:
    >>> student, metrics = distill(teacher, student, splits,
    ...                            DistillConfig(epochs=4, temperature=2, alpha=0.8),
    ...                            run_dir="runs/distill")  # doctest: +SKIP
    """
    config = config or DistillConfig()
    if config.share_groups:
        return _distill_with_sharing(teacher, student, data, config, run_dir, resume,
                                     unlabelled_texts, verbose)
    return _distill_phase(teacher, student, data, config, run_dir, resume, unlabelled_texts,
                          verbose)


def _distill_with_sharing(teacher, student, data, config: DistillConfig, run_dir, resume: bool,
                          unlabelled_texts, verbose):
    """Anneal the student's distinct layers into `config.share_groups` groups, tie them, and
    distil the tied student `config.share_tie_epochs` more epochs (`sharing` module)."""
    from albert_tf.compress.distill.sharing import layer_calls, sharing_gap, target_groups, tie_layers

    target_groups(len(layer_calls(student)), config.share_groups)  # checked before any work
    if run_dir is None:
        run_dir = tempfile.mkdtemp(prefix="albert_tf_distill_")
    run_dir = Path(run_dir)
    cache = run_dir / "teacher_cache"  # both phases read one teacher cache
    gap_before = sharing_gap(student, config.share_groups)
    # No early stop while annealing: the schedule must reach identical layers.
    anneal_config = dataclasses.replace(config, patience=0)
    student, annealed = _distill_phase(teacher, student, data, anneal_config, run_dir / "anneal",
                                       resume, unlabelled_texts, verbose, teacher_cache=cache)
    gap_after = sharing_gap(student, config.share_groups)
    tied = tie_layers(student, config.share_groups)
    score_name = adapter_for(student).accuracy_key
    metrics = {"sharing": {"groups": config.share_groups, "gap_before": gap_before,
                           "gap_after_anneal": gap_after,
                           "anneal": _phase_summary(annealed, score_name)}}
    if config.share_tie_epochs:
        tie_config = dataclasses.replace(config, share_groups=0, epochs=config.share_tie_epochs)
        tied, final = _distill_phase(teacher, tied, data, tie_config, run_dir / "tied", resume,
                                     unlabelled_texts, verbose, teacher_cache=cache)
    else:  # measured like any run, with no further training
        tie_config = dataclasses.replace(config, share_groups=0)
        tied, final = _distill_phase(teacher, tied, data, tie_config, run_dir / "tied", resume,
                                     unlabelled_texts, verbose, teacher_cache=cache, learn=False)
    final.update(metrics)
    final["config"] = dataclasses.asdict(config)
    _atomic_write_json(run_dir / METRICS_FILE, final)
    return tied, final


def _phase_summary(metrics: dict, score_name: str) -> dict:
    return {k: metrics[k] for k in ("epochs_done", "history", "seconds") if k in metrics} | {
        name: {"student": metrics[name]["student"][score_name],
               "agreement": metrics[name]["agreement"]}
        for name in ("dev", "test") if name in metrics}


def _distill_phase(teacher, student, data, config: DistillConfig, run_dir, resume: bool,
                   unlabelled_texts, verbose, teacher_cache: Path | None = None,
                   learn: bool = True):
    """One distillation run (see `distill`); with `config.share_groups`, the annealing one.

    Args:
        teacher_cache: where the teacher's outputs are cached (default `run_dir/teacher_cache`).
        learn: False measures the student as it is (no optimizer step).
    """
    from albert_tf.models import count_parameters
    from albert_tf.train.checkpoint import TrainingState, check_resume_settings
    from albert_tf.train.distributed import checkpoint_store, fit, work_folder
    from albert_tf.train.finetune import EpochCheckpoint

    started = time.perf_counter()
    adapter = adapter_for(student)
    train, dev, test = _splits(data, adapter)
    if len(train) == 0:
        raise UserError("no training examples to distil on")
    check_logits_head(teacher, "teacher")
    check_logits_head(student, "student")
    if not adapter.owns_model(teacher):
        raise UserError(f"the student is a {adapter.name}, so the teacher must be one too. "
                        f"Received: {type(teacher).__name__}")
    if teacher.num_classes != student.num_classes:
        raise UserError(f"teacher has {teacher.num_classes} classes and student "
                        f"{student.num_classes}: they must predict the same labels")
    label_names = adapter.class_names(train)
    if label_names and len(label_names) != student.num_classes:
        raise UserError(f"the data has {len(label_names)} classes ({label_names}) but the models "
                        f"{student.num_classes}")
    adapter.check_distillation(teacher, student, config)
    if run_dir is None:
        run_dir = tempfile.mkdtemp(prefix="albert_tf_distill_")
        logger.info("no run folder given: using %s", run_dir)
    strategy = _student_strategy(student, config)
    store = checkpoint_store(run_dir, strategy)
    run_dir = work_folder(run_dir, strategy)  # another worker than the chief writes apart
    run_dir.mkdir(parents=True, exist_ok=True)
    if store.exists() and not resume:
        raise UserError(f"{run_dir} already holds a distillation checkpoint (epoch "
                        f"{store.load_state().epochs_done}): pass --resume to continue it, or "
                        "choose another run folder")
    check_resume_settings(run_dir / CONFIG_FILE, dataclasses.asdict(config), resume,
                          _RESUMABLE_CHANGES)
    plan = plan_transfer(teacher, student, config)
    shared = shares_tokenizer(teacher, student)
    if config.uses_features:
        require_shared_tokenizer(teacher, student)

    extra = _augmentation(config, unlabelled_texts, train, dev, test)
    arrays = adapter.distillation_arrays(student, train, extra)
    student_inputs = _inputs(arrays)
    teacher_inputs = (student_inputs if shared
                      else _inputs(adapter.distillation_arrays(teacher, train, extra)))
    lengths = adapter.distillation_lengths(arrays)

    cache_dir = teacher_cache or run_dir / "teacher_cache"
    cached = teacher_outputs(
        teacher, teacher_inputs, cache_dir / "train",
        hidden_indices=[t for _, t in plan.hidden_pairs],
        attention_indices=[t for _, t in plan.attention_pairs],
        batch_size=max(config.batch_size, 64), dtype=config.cache_dtype, verbose=verbose,
        lengths=lengths)
    labels = arrays["labels"]
    unlabelled = labels < 0
    labels[unlabelled] = np.argmax(cached.logits[unlabelled], axis=-1)
    targets = {"labels": labels, "logits": cached.logits}
    if "label_weights" in arrays:
        targets["label_weights"] = arrays["label_weights"]
    targets.update({f"hidden_{s}": cached.hidden[t] for s, t in plan.hidden_pairs})
    targets.update({f"attention_{s}": cached.attention[t] for s, t in plan.attention_pairs})
    callbacks = []
    if dev is not None:
        dev_arrays, dev_teacher_logits = _split_arrays(adapter, teacher, student, dev, shared,
                                                       cache_dir / "dev")
        callbacks.append(DevEvaluation(student, _inputs(dev_arrays), dev_arrays["labels"],
                                       dev_teacher_logits, max(config.batch_size, 64),
                                       dev_arrays.get("label_weights")))

    teacher_width = hidden_width(teacher) if plan.hidden_pairs else 0

    def batches(first_pass: int):
        # A resumed run starts at the epoch it stopped at, and sees that epoch's order.
        return distillation_dataset(student_inputs, targets, config.batch_size, shuffle=True,
                                    seed=config.seed, first_pass=first_pass, lengths=lengths)

    steps_per_epoch = int(batches(0).cardinality())  # a ragged end may be dropped
    with strategy.scope():
        model = DistillationModel(student, config, plan, teacher_width)
        model.compile(optimizer=make_optimizer(config, steps_per_epoch * config.epochs),
                      jit_compile=config.jit_compile)
        # Creates the projections' weights before any restore.
        model({name: values[:config.batch_size] for name, values in student_inputs.items()})
        # Optimizer slots made now, not inside the first traced step (which would trace it
        # twice).
        model.optimizer.build(model.trainable_variables)
    state = TrainingState()
    if store.exists():
        state = store.load_state()
        try:
            store.restore_last(model, state)
        except ValueError as exc:
            raise UserError(f"the checkpoint in {run_dir} does not fit this student ({exc}); "
                            "resume with the same student initialisation") from exc
        logger.info("resuming distillation after epoch %d of %d", state.epochs_done, config.epochs)
    elif resume:
        logger.info("no checkpoint in %s: starting from the beginning", run_dir)
    if config.share_groups:
        from albert_tf.compress.distill.sharing import SharingAnneal

        callbacks.append(SharingAnneal(student, config.share_groups,
                                       steps_per_epoch * config.epochs, model.optimizer))
    if learn and state.epochs_done < config.epochs and not state.stopped_early:
        callbacks.append(EpochCheckpoint(store, state, config.patience, len(labels)))
        fit(model, batches(state.epochs_done), epochs=config.epochs,
            initial_epoch=state.epochs_done, callbacks=callbacks, verbose=verbose)
    if dev is not None and learn and not config.share_groups:
        # The best dev epoch's student; annealing keeps the last, whose layers are tied.
        store.restore_best(model, state)

    metrics = {
        "teacher_cache": "reused" if cached.reused else "computed",
        "shared_tokenizer": shared,
        "transfer": {"hidden_pairs": [list(p) for p in plan.hidden_pairs],
                     "attention_pairs": [list(p) for p in plan.attention_pairs]},
        "train_examples": len(train),
        "augmentation_examples": len(extra),
        "epochs_done": state.epochs_done,
        "best_epoch": state.best_epoch if dev is not None else state.epochs_done,
        "history": state.history,
        "parameters": {"teacher": count_parameters(teacher),
                       "student": count_parameters(student)},
        "config": dataclasses.asdict(config),
    }
    for name, part in (("dev", dev), ("test", test)):
        if part is not None:
            metrics[name] = _evaluate(adapter, teacher, student, part, shared, cache_dir / name,
                                      max(config.batch_size, 64))
            logger.info("%s %s: student %.4f, teacher %.4f, agreement %.4f", name,
                        adapter.accuracy_key, metrics[name]["student"][adapter.accuracy_key],
                        metrics[name]["teacher"][adapter.accuracy_key], metrics[name]["agreement"])
    adapter.save(student, run_dir / "student", label_names, overwrite=True)
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    _atomic_write_json(run_dir / METRICS_FILE, metrics)
    return student, metrics
