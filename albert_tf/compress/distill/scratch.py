"""`scratch` students: a randomly initialised ALBERT of a chosen shape."""

from __future__ import annotations

import keras_hub

from albert_tf.errors import UserError
from albert_tf.models.configs import ALBERT_CONFIGS

# Backbone arguments a shape may set (vocabulary_size always comes from the tokenizer).
_SHAPE_KEYS = {"num_layers", "num_heads", "embedding_dim", "hidden_dim", "intermediate_dim",
               "num_groups", "num_inner_repetitions", "dropout", "max_sequence_length",
               "num_segments"}


def resolve_shape(shape: str | dict) -> dict:
    """AlbertBackbone arguments (without `vocabulary_size`) for a named config or a dict.

    Args:
        shape: a name from `ALBERT_CONFIGS`, or a dict of `AlbertBackbone` arguments (a named
            config may be refined: `{"config": "albert-tiny", "num_layers": 2}`).
    """
    if isinstance(shape, str):
        if shape not in ALBERT_CONFIGS:
            raise UserError(f"unknown student config {shape!r}: expected one of "
                            f"{', '.join(ALBERT_CONFIGS)} or a dict of AlbertBackbone arguments")
        return dict(ALBERT_CONFIGS[shape])
    shape = dict(shape)
    base = resolve_shape(shape.pop("config")) if "config" in shape else {}
    unknown = sorted(set(shape) - _SHAPE_KEYS)
    if unknown:
        raise UserError(f"unknown student shape argument(s) {unknown}: allowed are "
                        f"{sorted(_SHAPE_KEYS)}")
    merged = {**base, **shape}
    missing = sorted({"num_layers", "num_heads", "embedding_dim", "hidden_dim",
                      "intermediate_dim"} - set(merged))
    if missing:
        raise UserError(f"student shape is missing {missing}")
    return merged


def scratch_student(shape: str | dict, num_classes: int, preprocessor, dropout: float = 0.1):
    """A randomly initialised ALBERT classifier of shape `shape` over `preprocessor`.

    Args:
        shape: a named config (`albert-tiny`, ...) or a dict of `AlbertBackbone` arguments.
        num_classes: number of classes.
        preprocessor: the student's preprocessor (an `AlbertTextClassifierPreprocessor` with
            its SentencePiece tokenizer, or a copy of the teacher's to share its tokenizer).
        dropout: dropout before the classification head.

    Examples:
    >>> student = scratch_student("albert-tiny", 2, preprocessor)  # doctest: +SKIP
    """
    arguments = resolve_shape(shape)
    sequence_length = int(preprocessor.sequence_length)
    arguments.setdefault("max_sequence_length", max(512, sequence_length))
    if arguments["num_layers"] % arguments.get("num_groups", 1):
        raise UserError("num_layers must be divisible by num_groups. Received: "
                        f"num_layers={arguments['num_layers']}, "
                        f"num_groups={arguments['num_groups']}")
    if arguments["hidden_dim"] % arguments["num_heads"]:
        raise UserError(f"hidden_dim must be divisible by num_heads. Received: "
                        f"hidden_dim={arguments['hidden_dim']}, num_heads={arguments['num_heads']}")
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=preprocessor.tokenizer.vocabulary_size(), **arguments)
    return keras_hub.models.AlbertTextClassifier(
        backbone, num_classes=num_classes, preprocessor=preprocessor, dropout=dropout)
