"""The verbs at the package top: `albert_tf.finetune`, `distill`, `prune`, `quantize`,
`evaluate` and `export`, for text classifiers and token classifiers alike.

Each takes a model and the `Splits` its loader returns (`albert_tf.data.load_splits` for
classification, `albert_tf.tagging.load_tagging_splits` for tagging) and returns
`(model, metrics)`; `export` returns `(path, report)`. The task is read off the model
(`albert_tf.tasks.adapter.adapter_for`), which also checks that the data is that task's; the
work is done by the task's existing implementation, not here.

Examples:
>>> import albert_tf  # doctest: +SKIP
>>> model, metrics = albert_tf.finetune(model, splits, FinetuneConfig(epochs=2))  # doctest: +SKIP
>>> path, report = albert_tf.export(model, "m.tflite", splits, format="tflite",
...                                 mode="dynamic-int8")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from albert_tf.errors import UserError
from albert_tf.tasks.adapter import adapter_for, as_splits

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("tflite", "saved_model", "edge")
# Keras' own weight quantization modes that need no calibration data.
QUANTIZE_MODES = ("int8", "int4")
SCORED_SPLITS = ("dev", "test")


def _present(part) -> bool:
    return part is not None and len(part) > 0


def _scores(adapter, model, splits, names=SCORED_SPLITS) -> dict:
    """The task's report of `model` on each named split that has examples."""
    return {name: adapter.evaluate(model, getattr(splits, name)) for name in names
            if _present(getattr(splits, name))}


def _require(splits, *names: str, verb: str) -> None:
    missing = [name for name in names if not _present(getattr(splits, name))]
    if missing:
        raise UserError(f"{verb} needs examples in splits.{' and splits.'.join(missing)}")


@contextlib.contextmanager
def _run_folder(run_dir, resume: bool):
    """`run_dir`, or a temporary folder when it is None (nothing to resume then)."""
    if run_dir is not None:
        yield Path(run_dir)
        return
    if resume:
        raise UserError("resume=True needs the run_dir of the run to resume")
    with tempfile.TemporaryDirectory(prefix="albert_tf_finetune_") as folder:
        yield Path(folder)


def finetune(model, splits, config=None, *, run_dir: str | os.PathLike | None = None,
             resume: bool = False, verbose="auto"):
    """Fine-tune `model` in place on `splits.train`, keeping its best dev epoch.

    Args:
        model: a keras-hub `TextClassifier` (e.g. `albert_tf.models.build_classifier`) or an
            albert_tf `TokenClassifier` (`albert_tf.tagging.build_token_classifier`), with its
            preprocessor.
        splits: `Splits` of the model's task; train and dev are needed, test is scored.
        config: `albert_tf.train.config.FinetuneConfig` (default: its defaults).
        run_dir: folder for per-epoch checkpoints and TensorBoard logs; a temporary folder
            when None.
        resume: continue the run in `run_dir` after its last finished epoch.
        verbose: Keras progress bars ("auto", 0, 1 or 2).

    Returns:
        `(model, metrics)`: `metrics["training"]` is the loop's summary (history, best epoch),
        `metrics["dev"]` / `["test"]` the task's reports (classification: accuracy, macro-F1,
        ...; tagging: token accuracy, entity F1, ...).
    """
    from albert_tf.train.config import FinetuneConfig

    adapter = adapter_for(model, splits)
    splits = as_splits(splits)
    _require(splits, "train", "dev", verb="finetune")
    config = config or FinetuneConfig()
    with _run_folder(run_dir, resume) as folder:
        summary = adapter.finetune(model, splits, config, folder, resume, verbose)
    return model, {"training": summary, **_scores(adapter, model, splits)}


def distill(teacher, student, splits, config=None, *,
            run_dir: str | os.PathLike | None = None, resume: bool = False, verbose="auto"):
    """Train `student` (in place) on the frozen `teacher`'s outputs and the true labels.

    Args:
        teacher: a trained model of the task (its weights never change).
        student: a smaller model of the same task, e.g. from `albert_tf.prune` or
            `albert_tf.compress.distill.build_student`.
        splits: `Splits` of the task; train is needed, dev picks the best epoch.
        config: `albert_tf.compress.distill.DistillConfig` for both tasks (default: the
            task's defaults; `albert_tf.tagging.TokenDistillConfig` is the tagging one).
        run_dir: folder for the teacher cache and per-epoch checkpoints; temporary when None.
        resume: continue the run in `run_dir`.
        verbose: Keras progress bars.

    Returns:
        `(student, metrics)`: the task's distillation metrics (history, best dev epoch,
        teacher and student figures) with `metrics["test"]`, the student's test report.
    """
    adapter = adapter_for(teacher, splits)
    student_task = adapter_for(student)
    if type(student_task) is not type(adapter):
        raise UserError(f"teacher and student must be of one task: the teacher is a "
                        f"{adapter.name}, the student a {student_task.name}")
    splits = as_splits(splits)
    _require(splits, "train", verb="distill")
    student, metrics = adapter.distill(teacher, student, splits, config, run_dir, resume,
                                       verbose)
    if "test" not in metrics:
        metrics.update(_scores(adapter, student, splits, ("test",)))
    return student, metrics


def prune(model, splits, config):
    """Prune `model`: structured (heads, FFN neurons, depth), unstructured (magnitude
    sparsity), or both, with optional fine-tuning steps.

    Args:
        model: a model of either task (structured pruning needs an ALBERT backbone).
        splits: `Splits` of the task; train feeds fine-tuning steps (and Taylor importance),
            test is scored. None for one-shot magnitude pruning, which needs no data.
        config: `albert_tf.compress.prune.PruneConfig` (both tasks).

    Returns:
        `(pruned model, metrics)`: a new model with structured pruning, else `model` pruned
        in place; parameter counts before and after, and `metrics["test"]` when splits are
        given.
    """
    adapter = adapter_for(model, splits)
    if config is None:
        raise UserError("prune needs a config: what to prune (PruneConfig(structured=..., "
                        "unstructured=...))")
    splits = None if splits is None else as_splits(splits)
    pruned, metrics = adapter.prune(model, splits, config)
    if splits is not None:
        metrics.update(_scores(adapter, pruned, splits, ("test",)))
    return pruned, metrics


def quantize(model, splits=None, mode: str = "int8"):
    """Keras' weight quantization (`model.quantize(mode)`) on a copy of `model`.

    For quantized deployable files (TFLite float16, dynamic-int8, int8, int16x8), use
    `export(..., format="tflite", mode=...)`, which converts the float model.

    Args:
        model: a model of either task; it is left unchanged.
        splits: `Splits` of the task: the copy and the original are scored on test.
        mode: one of `QUANTIZE_MODES` ("int8": int8 weights with per-channel scales).

    Returns:
        `(quantized copy, metrics)`: `metrics["mode"]`, and with splits `metrics["test"]`
        (the copy's report) and `metrics["float_test"]` (the original's).
    """
    adapter = adapter_for(model, splits)
    if mode not in QUANTIZE_MODES:
        raise UserError(f"mode must be one of {', '.join(QUANTIZE_MODES)}. Received: {mode!r}")
    import warnings

    config = dict(model.get_config())
    config["preprocessor"] = model.preprocessor  # shared, not rebuilt from its config
    copy = type(model).from_config(config)
    copy.set_weights(model.get_weights())
    # The preprocessor's layers (tokenizer, packer) hold no weights to quantize.
    preprocessing = ({id(layer) for layer in copy.preprocessor._flatten_layers()}
                     if copy.preprocessor is not None else set())
    with warnings.catch_warnings():  # one warning per layer without int8 kernels (LayerNorm, ...)
        warnings.simplefilter("ignore", UserWarning)
        copy.quantize(mode, filters=lambda layer: id(layer) not in preprocessing)
    metrics: dict = {"mode": mode}
    if splits is not None:
        splits = as_splits(splits)
        metrics.update(_scores(adapter, copy, splits, ("test",)))
        if "test" in metrics:
            metrics["float_test"] = adapter.evaluate(model, splits.test)
    return copy, metrics


def evaluate(model, splits, *, split: str | tuple[str, ...] = SCORED_SPLITS):
    """Score `model` on the named splits with its task's metrics.

    Args:
        model: a model of either task.
        splits: `Splits` of the task.
        split: "train", "dev", "test", or a tuple of them (splits without examples are
            skipped).

    Returns:
        `(model, metrics)` (the model unchanged, so the verbs chain alike), `metrics[name]`
        being the task's report on each split: classification `classification_report`
        (accuracy, macro-F1, per class, confusion matrix), tagging `tagging_report` (token
        accuracy, entity precision / recall / F1).
    """
    adapter = adapter_for(model, splits)
    names = (split,) if isinstance(split, str) else tuple(split)
    unknown = [name for name in names if name not in ("train", *SCORED_SPLITS)]
    if unknown or not names:
        raise UserError(f"split must be train, dev or test. Received: {split!r}")
    splits = as_splits(splits)
    metrics = _scores(adapter, model, splits, names)
    if not metrics:
        raise UserError(f"nothing to evaluate: splits.{' and splits.'.join(names)} are empty")
    return model, metrics


def export(model, path: str | os.PathLike, splits=None, *, format: str = "tflite",
           **options):
    """Write a deployable artifact of `model`: one verb, the format as a parameter (as in
    Keras' `model.export(path, format=...)`). Every artifact is checked against the Keras
    model before it is written (parity) and described in a JSON report.

    Args:
        model: a model of either task.
        path: tflite: the `.tflite` file; saved_model: the TF Serving root folder
            (`<path>/<model_name>/<version>/`, both tasks); edge: the bundle folder for the
            edge kit (`export/edge/`).
        splits: `Splits` of the task, or None: their label (tag) names go into the artifact,
            and their training split calibrates int8 / int16x8 TFLite modes.
        format: one of `EXPORT_FORMATS`: "tflite", "saved_model" or "edge".
        **options: the format's writer's own arguments, e.g. `mode="dynamic-int8"` (tflite,
            edge), `raw_text=True` (classifier tflite), `model_name`, `version`
            (saved_model), `overwrite`, `label_names`. Writers: `deploy.export_tflite` and
            `deploy.export_saved_model` for both tasks; `deploy.kit_bundle.write_edge_bundle`
            for classifiers, `deploy.kit_bundle.write_tagging_bundle` for taggers.

    Returns:
        `(path, report)`: the artifact's path as given (in place of a model) and the writer's
        report (size, sha256, ops, parity).
    """
    fmt = str(format).replace("-", "_")
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"format must be one of {', '.join(EXPORT_FORMATS)}. "
                        f"Received: {format!r}")
    adapter = adapter_for(model, splits)
    splits = None if splits is None else as_splits(splits)
    report = adapter.export(model, path, fmt, splits, dict(options))
    logger.info("exported %s (%s)", path, fmt)
    return Path(path), report
