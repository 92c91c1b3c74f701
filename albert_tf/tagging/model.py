"""Token classifiers: a keras-hub backbone plus a per-token head (keras-hub ships none).

`TokenClassifier` is a keras-hub `Task`, built the way keras-hub builds its own tasks (a
functional graph over the backbone's inputs), so everything written for keras-hub tasks works
on it unchanged: `save_to_preset` / `from_preset` round-trip exactly, the fine-tuning loop
detaches its preprocessor, and pruning sees the same backbone.

Its output is `[batch, sequence_length, num_classes]` logits, one row per sub-token; only the
rows at each word's first sub-token are trained and read (see `preprocessor`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import keras
import keras_hub

from albert_tf.errors import UserError
from albert_tf.models.albert_slim import AlbertSlimBackbone
from albert_tf.models.configs import ALBERT_CONFIGS
from albert_tf.models.factory import (
    MINILM_TEACHER,
    check_position_table,
    saved_task_class,
)
from albert_tf.tagging.examples import TAG_NAMES_FILE
from albert_tf.tagging.preprocessor import (
    AlbertTokenClassifierPreprocessor,
    BertTokenClassifierPreprocessor,
)

logger = logging.getLogger(__name__)


@keras.saving.register_keras_serializable(package="albert_tf")
class TokenClassifier(keras_hub.models.Task):
    """A text backbone with a dense layer over every token's final hidden state.

    `TokenClassifier.from_preset(folder)` loads any of the subclasses below (keras-hub picks
    the one whose `backbone_cls` matches the saved backbone).

    Args:
        backbone: a keras-hub backbone with a `sequence_output` (ALBERT, BERT).
        num_classes: number of tags.
        preprocessor: a `TokenClassifierPreprocessor` for the backbone's tokenizer, or None.
        dropout: dropout on the hidden states before the head.
    """

    def __init__(self, backbone, num_classes: int, preprocessor=None, dropout: float = 0.1,
                 **kwargs):
        # === Layers ===
        self.backbone = backbone
        pooler = getattr(backbone, "pooled_dense", None)
        if pooler is not None:
            # The head reads every token, never the pooled [CLS]: nothing trains the pooler,
            # and Keras would warn at every step that it has no gradients.
            pooler.trainable = False
        self.preprocessor = preprocessor
        self.output_dropout = keras.layers.Dropout(dropout, dtype=backbone.dtype_policy,
                                                   name="output_dropout")
        self.output_dense = keras.layers.Dense(
            num_classes, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            dtype=backbone.dtype_policy, name="logits")
        # === Functional model ===
        inputs = backbone.input
        hidden = backbone(inputs)["sequence_output"]
        outputs = self.output_dense(self.output_dropout(hidden))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.num_classes = int(num_classes)
        self.dropout = float(dropout)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, dropout=self.dropout)
        return config


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTokenClassifier(TokenClassifier):
    """ALBERT token classifier. Its preprocessor is an `AlbertTokenClassifierPreprocessor`
    (SentencePiece), or a `BertTokenClassifierPreprocessor` for a student albertized from a
    BERT-family teacher (it keeps the teacher's WordPiece vocabulary).

    Examples:
    >>> backbone = keras_hub.models.AlbertBackbone(vocabulary_size=100, num_layers=2,
    ...     num_heads=2, embedding_dim=16, hidden_dim=32, intermediate_dim=64)  # doctest: +SKIP
    >>> tagger = AlbertTokenClassifier(backbone, num_classes=12)  # doctest: +SKIP
    """

    backbone_cls = keras_hub.models.AlbertBackbone
    preprocessor_cls = AlbertTokenClassifierPreprocessor


@keras.saving.register_keras_serializable(package="albert_tf")
class BertTokenClassifier(TokenClassifier):
    """BERT-family token classifier (the MiniLM teacher, keras-hub BERT presets): a teacher
    whose pretrained encoder the ALBERT students start from (`albertize_tagger`)."""

    backbone_cls = keras_hub.models.BertBackbone
    preprocessor_cls = BertTokenClassifierPreprocessor


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSlimTokenClassifier(AlbertTokenClassifier):
    """`AlbertTokenClassifier` over an `AlbertSlimBackbone` (after attention-head pruning);
    `from_preset` needs the class whose `backbone_cls` matches the saved backbone."""

    backbone_cls = AlbertSlimBackbone


def token_classifier_for(backbone, num_classes: int, preprocessor=None, dropout: float = 0.1):
    """The token classifier class that fits `backbone` (stock or slim ALBERT, BERT), built."""
    if isinstance(backbone, AlbertSlimBackbone):
        cls = AlbertSlimTokenClassifier
    elif isinstance(backbone, keras_hub.models.BertBackbone):
        cls = BertTokenClassifier
    else:
        cls = AlbertTokenClassifier
    return cls(backbone, num_classes=num_classes, preprocessor=preprocessor, dropout=dropout)


def build_token_classifier(model: str | dict, num_classes: int, tokenizer=None,
                           sequence_length: int = 128, dropout: float = 0.1):
    """A new ALBERT token classifier with its preprocessor.

    Args:
        model: a named configuration (`albert-tiny`, `albert-small`, `albert-base`), a dict of
            `AlbertBackbone` arguments without `vocabulary_size`, `minilm-teacher`, a local
            ALBERT or BERT preset folder (a saved token classifier is loaded as it is; a
            backbone or text classifier preset gives its backbone a new head), or a keras-hub
            ALBERT / BERT preset name (downloads).
        num_classes: number of tags.
        tokenizer: SentencePiece `.model` path or `AlbertTokenizer`: needed for named
            configurations and dicts (presets bring their own).
        sequence_length: sub-tokens per sentence, `[CLS]` and `[SEP]` included.
        dropout: dropout before the head.
    """
    from albert_tf.models.factory import load_albert_tokenizer

    if num_classes < 2:
        raise UserError(f"num_classes must be at least 2. Received: {num_classes}")
    if sequence_length < 3:
        raise UserError(f"sequence_length must be at least 3. Received: {sequence_length}")
    if isinstance(model, dict) or model in ALBERT_CONFIGS:
        shape = ALBERT_CONFIGS[model] if isinstance(model, str) else dict(model)
        tok = load_albert_tokenizer(tokenizer)
        backbone = keras_hub.models.AlbertBackbone(
            vocabulary_size=tok.vocabulary_size(),
            max_sequence_length=max(512, sequence_length), **shape)
        preprocessor = AlbertTokenClassifierPreprocessor(tok, sequence_length=sequence_length)
        return token_classifier_for(backbone, num_classes, preprocessor, dropout)
    folder = Path(model)
    if folder.is_dir() and (folder / "task.json").is_file() and _is_token_classifier(folder):
        tagger = load_token_classifier(folder)
        if tagger.num_classes != num_classes:
            raise UserError(f"{folder} is a {tagger.num_classes}-tag model but the data has "
                            f"{num_classes} tags")
        tagger.preprocessor.sequence_length = sequence_length
        return tagger
    if not folder.is_dir() and ("/" in str(model) or os.sep in str(model)):
        raise UserError(f"model folder not found: {model}")
    if model == MINILM_TEACHER:
        from albert_tf.data import fetch_source

        model = str(fetch_source(MINILM_TEACHER))
    try:
        backbone = keras_hub.models.Backbone.from_preset(str(model))
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(f"cannot load a backbone from {model!r}: expected one of "
                        f"{', '.join(ALBERT_CONFIGS)}, {MINILM_TEACHER}, a local ALBERT or BERT "
                        f"preset folder or a keras-hub ALBERT / BERT preset name ({exc})") from exc
    if isinstance(backbone, keras_hub.models.AlbertBackbone):
        tokenizer_cls, preprocessor_cls = (keras_hub.models.AlbertTokenizer,
                                           AlbertTokenClassifierPreprocessor)
    elif isinstance(backbone, keras_hub.models.BertBackbone):
        tokenizer_cls, preprocessor_cls = (keras_hub.models.BertTokenizer,
                                           BertTokenClassifierPreprocessor)
    else:
        raise UserError(f"{model} holds a {type(backbone).__name__}; token classification "
                        "here needs an ALBERT or BERT backbone")
    check_position_table(sequence_length, getattr(backbone, "max_sequence_length", None), model)
    if tokenizer_cls is keras_hub.models.BertTokenizer:
        from albert_tf.models.wordpiece import load_wordpiece_tokenizer

        tok = load_wordpiece_tokenizer(str(model))  # the normalisation it was trained with
    else:
        tok = tokenizer_cls.from_preset(str(model))
    preprocessor = preprocessor_cls(tok, sequence_length=sequence_length)
    return token_classifier_for(backbone, num_classes, preprocessor, dropout)


def _is_token_classifier(folder: Path) -> bool:
    return saved_task_class(folder).endswith("TokenClassifier")


def _is_sequence_classifier(folder: Path) -> bool:
    return saved_task_class(folder).endswith("TextClassifier")


def save_token_classifier(tagger, folder: str | os.PathLike, tag_names=None, *,
                          overwrite: bool = False) -> Path:
    """Save to keras-hub's preset format atomically (temporary folder, then rename).

    Args:
        tagger: an `AlbertTokenClassifier` with its preprocessor.
        folder: the preset folder to write.
        tag_names: tag names in id order, kept in `tag_names.json`.
        overwrite: replace an existing non-empty `folder` (otherwise refused).
    """
    from albert_tf.models.factory import save_task_atomically

    extra = {} if tag_names is None else {TAG_NAMES_FILE: list(tag_names)}
    return save_task_atomically(tagger, folder, extra, overwrite=overwrite)


def load_token_classifier(folder: str | os.PathLike):
    """Load a token classifier saved by `save_token_classifier`."""
    folder = Path(folder)
    if (folder / "task.json").is_file() and _is_sequence_classifier(folder):
        raise UserError(f"{folder} is a text classifier, not a tagger: use `albert-tf "
                        "evaluate / predict / export` for it, `albert-tf tag ...` for taggers")
    if not (folder / "task.json").is_file() or not _is_token_classifier(folder):
        raise UserError(f"{folder} is not a saved token classifier (task.json of an "
                        "AlbertTokenClassifier): expected a folder written by "
                        "`albert-tf tag finetune` or `save_token_classifier`")
    from albert_tf.models.factory import preset_dtype_kwargs
    from albert_tf.models.integrity import load_preset_folder

    return load_preset_folder(TokenClassifier.from_preset, folder, preset_dtype_kwargs)


def load_tag_names(folder: str | os.PathLike, num_classes: int) -> list[str]:
    """The tag names saved with a token classifier, or the ids as names."""
    path = Path(folder) / TAG_NAMES_FILE
    if path.is_file():
        return list(json.loads(path.read_text()))
    return [str(i) for i in range(num_classes)]
