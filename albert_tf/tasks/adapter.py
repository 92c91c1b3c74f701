"""The task adapter: one small interface over what differs between tasks, and `adapter_for`,
the one place that decides which task a model and its data belong to.

Each task (`classification`, `token_classification`) answers the same questions: is this
model / are these examples mine, and how are they fine-tuned, distilled, pruned, scored and
exported. The verbs at the package top ask the adapter and never look at the task themselves.
"""

from __future__ import annotations

from typing import Protocol

from albert_tf.data.examples import SPLIT_NAMES
from albert_tf.data.splits import Splits
from albert_tf.errors import UserError


def require_config(config, expected: type, adapter_name: str):
    """`config` if it is an `expected`; one clear line otherwise."""
    if not isinstance(config, expected):
        raise UserError(f"a {adapter_name} takes a {expected.__name__}. "
                        f"Received: {type(config).__name__}")
    return config


class TaskAdapter(Protocol):
    """What a task supplies to the one fine-tuning loop, the one distiller and the verbs.

    `finetune` and `distill` are written once, here: they ask the task only for its datasets
    and configuration defaults. Adapters subclass this protocol to inherit them.

    Attributes:
        task: the recipe's `task` value ("classification").
        name: the task's model, in messages ("text classifier").
        examples: what its splits hold, in messages.
        loader: the function that loads its splits, in messages.
        accuracy_key: the headline metric of `evaluate` and of a `distillation_report`
            ("accuracy", "token_accuracy"), also the report's first column.
        report_metrics: the report's other metric columns, `(key, header, format)`, each
            shown where some row has it.
        report_speedups: the report's speed-up columns, `(key, header)`; the last is the
            speed-up against the teacher's float32 TFLite (what `min_speedup` judges).
    """

    task: str
    name: str
    examples: str
    loader: str
    accuracy_key: str
    report_metrics: tuple
    report_speedups: tuple

    def owns_model(self, model) -> bool: ...

    def owns_examples(self, examples) -> bool: ...

    def class_count(self, examples) -> int: ...

    def class_names(self, examples) -> list[str]: ...

    def dataset(self, model, examples, batch_size: int, shuffle: bool = False, seed: int = 0):
        """Training / evaluation batches of `examples` for `model`: `(x, y)`, or
        `(x, y, sample_weight)` where only some positions are scored."""

    def train_tokenizer(self, examples, path, vocab_size: int, seed: int) -> None:
        """Train a SentencePiece model on the training split's text into `path`."""

    def build(self, model: str | dict, num_classes: int, tokenizer, sequence_length: int):
        """A new model of this task (named configuration, preset or saved folder)."""

    def save(self, model, path, class_names, overwrite: bool = False): ...

    def load_splits(self, spec) -> Splits: ...

    def texts(self, examples) -> list: ...

    def load(self, folder) -> tuple: ...

    def finetune_teacher(self, data, model, teacher, run_dir, resume: bool) -> dict: ...

    def distillation_arrays(self, model, examples, extra_texts=()) -> dict:
        """`model`'s inputs for `examples` (then `extra_texts`, unlabelled) as numpy arrays,
        with `labels` (-1: unlabelled) and, where only some positions are scored,
        `label_weights`."""

    def distillation_lengths(self, arrays: dict):
        """Each row's real length when batches should be trimmed to it, else None."""

    def check_distillation(self, teacher, student, config) -> None:
        """Raise `UserError` for a teacher / student / config this task cannot distil."""

    def default_distill_config(self): ...

    def distillation_report(self, model, examples, logits) -> dict:
        """The task's report of `model` on `examples`, whose logits are `logits`."""

    def finetune(self, model, splits: Splits, config, run_dir, resume: bool, verbose) -> dict:
        """Fine-tune `model` in place with the one loop (`albert_tf.train.finetune`)."""
        from albert_tf.train.finetune import finetune

        train_ds = self.dataset(model, splits.train, config.batch_size, shuffle=True,
                                seed=config.seed)
        dev_ds = self.dataset(model, splits.dev, config.batch_size)
        return finetune(model, train_ds, dev_ds, config, run_dir,
                        train_examples=len(splits.train), resume=resume, verbose=verbose)

    def distill(self, teacher, student, splits: Splits, config, run_dir, resume: bool,
                verbose, data_spec=None) -> tuple:
        """Distil with the one distiller (`albert_tf.compress.distill.distill`); `data_spec`
        supplies the training texts a recipe's distill section may ask for as unlabelled
        data."""
        from albert_tf.compress.distill import DistillConfig, distill
        from albert_tf.compress.distill.augment import requested_unlabelled_texts

        config = require_config(config or self.default_distill_config(), DistillConfig,
                                self.name)
        unlabelled = () if data_spec is None else requested_unlabelled_texts(config, data_spec)
        return distill(teacher, student, splits, config, run_dir=run_dir, resume=resume,
                       unlabelled_texts=unlabelled, verbose=verbose)

    def prune(self, model, splits: Splits | None, config) -> tuple:
        """Prune with the one prune stage (`albert_tf.compress.prune.prune`) on
        `splits.train`; the stage asks this adapter for batches and the rebuilt head."""
        from albert_tf.compress.prune import PruneConfig, prune

        config = require_config(config, PruneConfig, self.name)
        return prune(model, config, None if splits is None else splits.train)

    def with_backbone(self, model, backbone): ...

    def check_tflite(self, config) -> None: ...

    def tflite_parity(self, model, content: bytes, mode: str, texts) -> dict: ...

    def serving_graph(self, model, network, label_names, text_pairs: bool): ...

    def evaluate(self, model, examples) -> dict: ...

    def export(self, model, path, format: str, splits: Splits | None, options: dict) -> dict: ...

    def export_serving(self, model, serving_dir, model_name: str, version: int, label_names,
                       splits: Splits, base_path_prefix: str, allow_mismatch: bool) -> dict: ...

    def measure_run(self, run_dir, model_dir, work_dir, train, test, bench, seed: int,
                    title: str) -> dict: ...


def adapters() -> tuple[TaskAdapter, ...]:
    """Every task's adapter (imported here, not at module level: they need keras-hub)."""
    from albert_tf.tasks.classification import ClassificationAdapter
    from albert_tf.tasks.token_classification import TokenClassificationAdapter

    return ClassificationAdapter(), TokenClassificationAdapter()


def task_adapter(task: str) -> TaskAdapter:
    """The adapter of a recipe's `task` ("classification", "token-classification")."""
    for adapter in adapters():
        if adapter.task == task:
            return adapter
    raise UserError(f"unknown task {task!r}; known: "
                    + ", ".join(repr(a.task) for a in adapters()))


def adapter_for(model, splits=None) -> TaskAdapter:
    """The adapter of `model`'s task, with `splits` (when given) checked to be that task's data.

    Args:
        model: a keras-hub `TextClassifier` or an albert_tf `TokenClassifier`.
        splits: `Splits` (or a `(train, dev, test)` tuple), or None.

    Raises:
        UserError: a model of no known task, data of another task, or another class count.
    """
    found = [a for a in adapters() if a.owns_model(model)]
    if not found:
        raise UserError("expected a keras-hub TextClassifier or an albert_tf TokenClassifier "
                        f"(albert_tf.tagging). Received: {type(model).__name__}")
    adapter = found[0]
    if splits is not None:
        check_splits(adapter, model, splits)
    return adapter


def as_splits(splits) -> Splits:
    """`splits` as `Splits`: a `Splits` or any `(train, dev, test)` tuple."""
    if isinstance(splits, Splits):
        return splits
    if isinstance(splits, (tuple, list)) and len(splits) == 3:
        return Splits(*splits)
    raise UserError("splits must be a Splits (train, dev, test), as albert_tf.data.load_splits "
                    "and albert_tf.tagging.load_tagging_splits return. Received: "
                    f"{type(splits).__name__}")


def check_splits(adapter: TaskAdapter, model, splits) -> Splits:
    """`splits` as `Splits`, after checking that every split holds `adapter`'s examples with
    as many classes as `model` has."""
    splits = as_splits(splits)
    for name in SPLIT_NAMES:
        part = getattr(splits, name)
        if part is None:
            continue
        if not adapter.owns_examples(part):
            raise UserError(f"a {adapter.name} needs {adapter.examples} (from {adapter.loader}). "
                            f"Received: {type(part).__name__} in splits.{name}")
        classes = adapter.class_count(part)
        if classes != model.num_classes:
            raise UserError(f"the {adapter.name} has {model.num_classes} classes but "
                            f"splits.{name} has {classes}: give data with the model's classes")
    return splits
