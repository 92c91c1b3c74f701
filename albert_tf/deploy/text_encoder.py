"""Tokenisation and packing inside the graph: raw UTF-8 strings in, packed token tensors out.

`InGraphTextEncoder` reproduces the model's keras-hub preprocessor with TensorFlow ops, so an
exported artifact can take text:

* SentencePiece vocabularies (ALBERT presets, students with their own vocabulary):
  `tensorflow_text.SentencepieceTokenizer` for SavedModels (the op keras-hub itself uses) and
  `tensorflow_text.FastSentencepieceTokenizer` for TFLite (it has TFLite kernels, custom op
  `TFText>FastSentencepieceTokenize`). Both run the `.model`'s own normaliser, `nmt_nfkc_cf`
  (case folding) included.
* WordPiece vocabularies (students that kept a BERT teacher's vocabulary): the keras-hub
  `WordPieceTokenizer` graph for SavedModels, `tensorflow_text.FastBertTokenizer` (BERT basic
  tokenisation + WordPiece, TFLite kernels) for TFLite. Only settings it can reproduce are
  exported (`tflite_wordpiece_gaps`): lower-casing with accent stripping, or neither. Its
  normaliser has no NFKC step where keras-hub's case folding has one, so some classes of text
  still differ (Hangul syllables, compatibility and width forms, Unicode spaces, format
  characters); the parity gate reports them (README, raw-text parity).

Packing (`[CLS] A [SEP] (B [SEP])`, truncation, padding to the fixed length) uses only builtin
ops with static shapes, so it converts to TFLite as it is; round-robin and waterfall truncation
follow keras-hub's `MultiSegmentPacker`.
"""

from __future__ import annotations

import logging

from albert_tf.deploy.classifier_graph import ClassifierSpec, classifier_spec
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

TARGETS = ("saved_model", "tflite")


def _sentencepiece_tokenizer(proto: bytes, target: str):
    import tensorflow as tf
    import tensorflow_text as tf_text

    if target == "tflite":
        return tf_text.FastSentencepieceTokenizer(model=proto)
    return tf_text.SentencepieceTokenizer(model=proto, out_type=tf.int32)


def tflite_wordpiece_gaps(tokenizer) -> list[str]:
    """Settings of a keras-hub WordPiece tokenizer that `FastBertTokenizer` (the TFLite
    kernels) cannot reproduce, one line each (empty: supported)."""
    gaps = []
    lowercase, strip = bool(tokenizer.lowercase), bool(tokenizer.strip_accents)
    if lowercase != strip:
        gaps.append(f"lowercase={lowercase} with strip_accents={strip} (FastBertTokenizer "
                    "lower-cases only together with stripping accents)")
    if not getattr(tokenizer, "split", True):
        gaps.append("split=False (FastBertTokenizer always splits on spaces and punctuation)")
    if not getattr(tokenizer, "split_on_cjk", True):
        gaps.append("split_on_cjk=False (FastBertTokenizer always splits CJK characters)")
    if getattr(tokenizer, "special_tokens_in_strings", False):
        gaps.append("special_tokens_in_strings=True (FastBertTokenizer splits typed special "
                    "tokens)")
    return gaps


def _wordpiece_tokenizer(tokenizer, target: str):
    import tensorflow as tf
    import tensorflow_text as tf_text

    if target == "saved_model":
        return tokenizer  # keras-hub's own graph: exactly the Keras pipeline
    unsupported = tflite_wordpiece_gaps(tokenizer)
    if unsupported:
        raise UserError(
            "raw-text TFLite cannot tokenise like this WordPiece tokenizer: "
            + "; ".join(unsupported) + ". Export token inputs (without --raw-text), or a "
            "SavedModel (keras-hub's own tokenizer graph)")
    return tf_text.FastBertTokenizer(
        vocab=list(tokenizer.get_vocabulary()),
        suffix_indicator=tokenizer.suffix_indicator,
        unknown_token=tokenizer.oov_token,
        token_out_type=tf.int32,
        lower_case_nfd_strip_accents=bool(tokenizer.lowercase),
    )


class InGraphTextEncoder:
    """The model's preprocessor rebuilt from TensorFlow ops that export.

    Args:
        model: a keras-hub `TextClassifier` with its preprocessor.
        target: "saved_model" or "tflite" (chooses the tokenizer ops, see the module doc).
        spec: the classifier's `ClassifierSpec` (computed from `model` if not given).

    Examples:
    >>> encoder = InGraphTextEncoder(model, target="tflite")  # doctest: +SKIP
    >>> encoder.encode(tf.constant(["a fine film"]))["token_ids"].shape  # doctest: +SKIP
    TensorShape([1, 128])
    """

    def __init__(self, model, target: str = "saved_model", spec: ClassifierSpec | None = None):
        if target not in TARGETS:
            raise UserError(f"target must be one of {TARGETS}. Received: {target!r}")
        self.spec = spec or classifier_spec(model)
        self.target = target
        tokenizer = model.preprocessor.tokenizer
        if self.spec.tokenizer_kind == "sentencepiece":
            self.tokenizer = _sentencepiece_tokenizer(tokenizer.proto, target)
        else:
            self.tokenizer = _wordpiece_tokenizer(tokenizer, target)

    def tokenize(self, texts):
        """Token ids of a batch of strings, as a `tf.RaggedTensor` `[batch, None]`."""
        import tensorflow as tf

        if self.spec.tokenizer_kind == "wordpiece" and self.target == "saved_model":
            # keras-hub densifies its outputs unless called the way its preprocessors call it.
            from keras_hub.src.utils.tensor_utils import no_convert_scope

            # Traced, keras-hub's WordPiece graph drops what follows a NUL character ("null\0byte"
            # gives "null"); called eagerly (the parity reference, `albert_tf.text.tokenize` up
            # to 512 texts) NUL separates words. A space separates words in both.
            texts = tf.strings.regex_replace(texts, "\\x00", " ")
            with no_convert_scope():
                tokens = self.tokenizer.tokenize(texts)
        else:
            tokens = self.tokenizer.tokenize(texts)
        if tokens.ragged_rank > 1:
            tokens = tokens.merge_dims(-2, -1)  # [batch, words, pieces] -> [batch, pieces]
        return tf.cast(tokens, tf.int32)

    def encode(self, texts, pairs=None) -> dict:
        """Packed inputs (`token_ids`, `segment_ids`, `padding_mask`), `[batch, length]`.

        Args:
            texts: string tensor `[batch]`.
            pairs: string tensor `[batch]` of second segments, or None.
        """
        first = self.tokenize(texts)
        second = None if pairs is None else self.tokenize(pairs)
        return self.pack(first, second)

    def pack(self, first, second=None) -> dict:
        """Pack ragged token ids as keras-hub's `MultiSegmentPacker` does.

        Args:
            first: `tf.RaggedTensor` `[batch, None]` of the first segments' ids.
            second: the same for second segments, or None.
        """
        import tensorflow as tf

        spec = self.spec
        length = spec.sequence_length
        first_ids, first_length = self._dense(first)
        if second is None:
            budget = length - 2
            take_first = tf.minimum(first_length, budget)
            take_second = tf.zeros_like(take_first)
            second_ids = tf.zeros_like(first_ids)
        else:
            budget = length - 3
            second_ids, second_length = self._dense(second)
            if spec.truncate == "waterfall":
                take_first = tf.minimum(first_length, budget)
            else:  # round robin: one token each in turn, the first segment first
                half_up = (budget + 1) // 2
                take_first = tf.minimum(first_length,
                                        tf.maximum(half_up, budget - second_length))
            take_second = tf.minimum(second_length, budget - take_first)

        positions = tf.zeros_like(first_ids) + tf.range(length, dtype=tf.int32)[tf.newaxis, :]
        take_first = take_first[:, tf.newaxis]
        take_second = take_second[:, tf.newaxis]
        from_first = tf.gather(first_ids, tf.clip_by_value(positions - 1, 0, length - 1),
                               batch_dims=1)
        from_second = tf.gather(second_ids,
                                tf.clip_by_value(positions - take_first - 2, 0, length - 1),
                                batch_dims=1)
        second_end = take_first + take_second + 2  # position of the closing [SEP] of B
        start = tf.fill(tf.shape(positions), spec.start_id)
        end = tf.fill(tf.shape(positions), spec.end_id)
        pad = tf.fill(tf.shape(positions), spec.pad_id)
        if second is None:
            after_first = pad
            segment_ids = tf.zeros_like(positions)
            used = take_first + 2
        else:
            in_second = (positions >= take_first + 2) & (positions <= second_end)
            segment_ids = tf.cast(in_second, tf.int32)
            after_first = tf.where(positions < second_end, from_second,
                                   tf.where(positions == second_end, end, pad))
            used = second_end + 1
        token_ids = tf.where(
            positions == 0, start,
            tf.where(positions <= take_first, from_first,
                     tf.where(positions == take_first + 1, end, after_first)))
        return {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": tf.cast(positions < used, tf.int32),
        }

    def _dense(self, ragged):
        """`(ids [batch, length] padded or cut, full lengths [batch])` of ragged ids."""
        import tensorflow as tf

        length = self.spec.sequence_length
        lengths = tf.cast(ragged.row_lengths(), tf.int32)
        dense = ragged.to_tensor(default_value=self.spec.pad_id, shape=[None, length])
        return tf.cast(dense, tf.int32), lengths

