"""A keras-hub text classifier as fixed-shape TensorFlow functions.

Every artifact (TFLite in each mode, the SavedModel for TF Serving) is built from the same two
functions defined here:

* `probabilities_function(model)`: packed token tensors (`token_ids`, `segment_ids`,
  `padding_mask`, exactly what the model's keras-hub preprocessor produces) -> class
  probabilities;
* the raw-text function in `text_encoder` puts tokenisation and packing in front of it.

Shapes are fixed (`[batch_size, sequence_length]`): a `None` sequence length makes the TFLite
converter emit shape arithmetic (SHAPE, GATHER, REDUCE_PROD, UNSORTED_SEGMENT_PROD, PACK) around
every reshape, see DESIGN.md.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

# The packed inputs of keras-hub BERT-family classifiers, in the order functions take them.
TOKEN_INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")
TOKEN_INPUT_DTYPES = {"token_ids": "int32", "segment_ids": "int32", "padding_mask": "int32"}
PROBABILITIES = "probabilities"


@dataclasses.dataclass(frozen=True)
class ClassifierSpec:
    """What an exported graph needs to know about a classifier and its preprocessor.

    Args:
        sequence_length: tokens per packed example (`[CLS] A [SEP] (B [SEP])` plus padding).
        num_classes: number of output classes.
        label_names: class names in id order.
        tokenizer_kind: "sentencepiece" (ALBERT presets, our students) or "wordpiece"
            (BERT-family vocabularies such as the MiniLM teacher's).
        start_id, end_id, pad_id: ids of `[CLS]`, `[SEP]` and the padding token.
        truncate: the preprocessor's truncation rule for pairs ("round_robin" or "waterfall").
    """

    sequence_length: int
    num_classes: int
    label_names: tuple[str, ...]
    tokenizer_kind: str
    start_id: int
    end_id: int
    pad_id: int
    truncate: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def classifier_spec(model, label_names=None) -> ClassifierSpec:
    """Describe `model` (a keras-hub `TextClassifier` with its preprocessor attached).

    Args:
        model: the classifier.
        label_names: class names in id order; default the ids as strings.
    """
    import keras_hub

    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None or getattr(preprocessor, "tokenizer", None) is None:
        raise UserError("the model has no preprocessor with a tokenizer: export needs a "
                        "keras-hub TextClassifier saved with its preprocessor "
                        "(albert-tf finetune / save_classifier keep it)")
    tokenizer = preprocessor.tokenizer
    if isinstance(tokenizer, keras_hub.tokenizers.SentencePieceTokenizer):
        kind = "sentencepiece"
    elif isinstance(tokenizer, keras_hub.tokenizers.WordPieceTokenizer):
        kind = "wordpiece"
    else:
        raise UserError(f"cannot put a {type(tokenizer).__name__} into an exported graph: "
                        "SentencePiece (ALBERT) and WordPiece (BERT) tokenizers are supported")
    num_classes = int(model.num_classes)
    names = tuple(str(n) for n in (label_names or range(num_classes)))
    if len(names) != num_classes:
        raise UserError(f"{len(names)} label names for a {num_classes}-class model: "
                        f"give one name per class. Received: {list(names)}")
    return ClassifierSpec(
        sequence_length=int(preprocessor.sequence_length),
        num_classes=num_classes,
        label_names=names,
        tokenizer_kind=kind,
        start_id=int(tokenizer.start_token_id),
        end_id=int(tokenizer.end_token_id),
        pad_id=int(tokenizer.pad_token_id),
        # A tagger's preprocessor packs one segment, cut at its end.
        truncate=str(getattr(preprocessor, "truncate", "waterfall")),
    )


def token_input_signature(sequence_length: int, batch_size: int | None = 1) -> list:
    """`tf.TensorSpec`s of the packed inputs, in `TOKEN_INPUT_NAMES` order.

    Args:
        sequence_length: fixed sequence length.
        batch_size: fixed batch size, or None for a variable batch (TF Serving).
    """
    import tensorflow as tf

    return [tf.TensorSpec([batch_size, sequence_length], TOKEN_INPUT_DTYPES[name], name=name)
            for name in TOKEN_INPUT_NAMES]


def _outputs_probabilities(model) -> bool:
    """True when the classifier's head already applies softmax (keras-hub `activation`)."""
    import keras

    activation = getattr(model, "activation", None)
    return activation is not None and keras.activations.serialize(activation) == "softmax"


def probabilities_function(model):
    """A plain callable `(token_ids, segment_ids, padding_mask) -> probabilities`.

    It calls the Keras model in inference mode and applies softmax unless the head already
    does; wrap it in `tf.function` with `token_input_signature` to trace it.

    Args:
        model: a keras-hub `TextClassifier`.
    """
    import tensorflow as tf

    already_probabilities = _outputs_probabilities(model)

    def probabilities(token_ids, segment_ids, padding_mask):
        outputs = model({"token_ids": token_ids, "segment_ids": segment_ids,
                         "padding_mask": padding_mask}, training=False)
        outputs = tf.cast(outputs, tf.float32)
        return outputs if already_probabilities else tf.nn.softmax(outputs, axis=-1)

    return probabilities


def pack_texts(model, texts, pairs=None) -> dict[str, np.ndarray]:
    """Packed numpy inputs for `texts` (and `pairs`) through the model's own preprocessor.

    Args:
        model: a keras-hub `TextClassifier` with its preprocessor.
        texts: list of strings.
        pairs: second strings of text pairs, or None.
    """
    texts = np.asarray(list(texts), dtype=object)
    x = (texts,) if pairs is None else (texts, np.asarray(list(pairs), dtype=object))
    packed = model.preprocessor(x=x)
    return {name: np.asarray(packed[name]).astype(TOKEN_INPUT_DTYPES[name])
            for name in TOKEN_INPUT_NAMES}


def keras_probabilities(model, packed: dict[str, np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Class probabilities of the Keras model itself on packed inputs (the parity reference).

    Args:
        model: a keras-hub `TextClassifier`.
        packed: packed inputs as returned by `pack_texts`.
        batch_size: examples per call.
    """
    import tensorflow as tf

    # Eager calls: a parity check runs once per export, tracing would cost more than it saves.
    function = probabilities_function(model)
    n = len(packed["token_ids"])
    parts = []
    for start in range(0, n, batch_size):
        batch = [tf.constant(packed[name][start:start + batch_size]) for name in TOKEN_INPUT_NAMES]
        parts.append(function(*batch).numpy())
    return np.concatenate(parts) if parts else np.zeros((0, int(model.num_classes)), np.float32)
