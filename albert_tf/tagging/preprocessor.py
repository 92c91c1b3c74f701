"""Word-to-sub-token alignment: words in, packed model inputs plus per-token labels out.

Each word is tokenised on its own with the model's tokenizer, so every word maps to a run of
sub-tokens: SentencePiece for ALBERT models trained here (a word alone gets the same
word-initial `▁` pieces it gets inside a sentence), WordPiece for BERT-family teachers such as
MiniLM and the ALBERT students made from them (WordPiece splits words apart anyway, so a word
alone gets the pieces it gets in a sentence). The first sub-token of a word carries the word's
label; the word's other sub-tokens, `[CLS]`, `[SEP]` and padding carry weight 0 in the loss and
in every metric. A word the tokenizer maps to nothing (characters the normaliser removes)
becomes one unknown token, so every word that fits in the sequence has exactly one labelled
position.

Sentences longer than `sequence_length - 2` sub-tokens are cut; the words that start beyond the
cut get no position (`word_starts` is -1 for them) and so no prediction.

Everything runs as TensorFlow ops, so the same alignment works inside `tf.data` (training), in
eager calls (prediction) and inside an exported SavedModel (raw text in, word tags out).
"""

from __future__ import annotations

import logging

import keras
import keras_hub
import tensorflow as tf

logger = logging.getLogger(__name__)

# Labels of positions that carry no word label (continuation sub-tokens, [CLS], [SEP], padding).
IGNORED_LABEL = 0


def as_ragged_words(words) -> tf.RaggedTensor:
    """A `[batch, (words)]` string RaggedTensor from a RaggedTensor or lists of words.

    Args:
        words: `tf.RaggedTensor` of strings, or a list of sentences, each a list of words.
    """
    if isinstance(words, tf.RaggedTensor):
        return words
    sentences = [list(sentence) for sentence in words]
    lengths = [len(sentence) for sentence in sentences]
    flat = [word for sentence in sentences for word in sentence]
    return tf.RaggedTensor.from_row_lengths(
        tf.constant(flat, dtype=tf.string, shape=[len(flat)]),
        tf.constant(lengths, dtype=tf.int64, shape=[len(lengths)]))


def as_ragged_labels(labels) -> tf.RaggedTensor:
    """A `[batch, (words)]` int32 RaggedTensor of word label ids."""
    if isinstance(labels, tf.RaggedTensor):
        return tf.cast(labels, tf.int32)
    sentences = [list(sentence) for sentence in labels]
    flat = [int(label) for sentence in sentences for label in sentence]
    return tf.RaggedTensor.from_row_lengths(
        tf.constant(flat, dtype=tf.int32, shape=[len(flat)]),
        tf.constant([len(s) for s in sentences], dtype=tf.int64, shape=[len(sentences)]))


class TokenClassifierPreprocessor(keras_hub.models.Preprocessor):
    """Tokenise words, align word labels to sub-tokens, pack `[CLS] tokens [SEP]` and pad.

    The alignment is the same for every tokenizer; subclasses say how one word becomes
    sub-token ids (`word_tokenizer`) and which ids are `[CLS]`, `[SEP]`, padding and unknown.

    Called as `preprocessor(words, labels)` it returns `(x, y, sample_weight)`: `x` the packed
    backbone inputs, `y` the `[batch, sequence_length]` token labels (the word's label at its
    first sub-token, 0 elsewhere) and `sample_weight` 1.0 exactly where `y` is a real label.
    `align(words, labels)` returns the same tensors plus `word_starts`, the position of each
    word's first sub-token (-1 for words cut off by truncation), for mapping predictions back.

    Args:
        tokenizer: the model's keras-hub tokenizer.
        sequence_length: tokens per packed example, `[CLS]` and `[SEP]` included.
    """

    def __init__(self, tokenizer, sequence_length: int = 128, **kwargs):
        super().__init__(**kwargs)
        if sequence_length < 3:
            raise ValueError("`sequence_length` must be at least 3 ([CLS], one token, [SEP]). "
                             f"Received: sequence_length={sequence_length}")
        self.tokenizer = tokenizer
        self.sequence_length = int(sequence_length)
        self._word_tokenizer = None

    def _ids(self):
        """`(start, end, pad, unknown)` token ids."""
        tok = self.tokenizer
        return tok.start_token_id, tok.end_token_id, tok.pad_token_id, self._unknown_id()

    def _unknown_id(self) -> int:
        raise NotImplementedError

    def special_token_ids(self) -> dict[str, int]:
        """`start_id`, `end_id`, `pad_id` and `unknown_id` (given to words with no token)."""
        return dict(zip(("start_id", "end_id", "pad_id", "unknown_id"), map(int, self._ids())))

    def word_tokenizer(self):
        """An object whose `tokenize(words)` maps a 1-D string tensor of words to
        `[num_words, (pieces)]` int32 ids, created eagerly (see the subclasses)."""
        raise NotImplementedError

    def _word_pieces(self, flat_words: tf.Tensor) -> tf.RaggedTensor:
        """`[num_words, (pieces)]` ids; words with no piece become one `<unk>`."""
        pieces = self.word_tokenizer().tokenize(flat_words)
        unk_id = self._ids()[3]
        missing = tf.cast(tf.equal(pieces.row_lengths(), 0), tf.int64)
        unknown = tf.RaggedTensor.from_row_lengths(
            tf.fill([tf.reduce_sum(missing)], tf.constant(unk_id, tf.int32)), missing)
        return tf.concat([pieces, unknown], axis=1)

    def align(self, words, labels=None) -> dict:
        """Packed inputs, token labels, label weights and word start positions.

        Args:
            words: `[batch, (words)]` strings (RaggedTensor or lists).
            labels: `[batch, (words)]` label ids, or None.

        Returns:
            A dict of dense tensors: `token_ids`, `segment_ids`, `padding_mask` (int32,
            `[batch, sequence_length]`), `labels` (int32, 0 where unlabelled), `label_weights`
            (float32, 1.0 at each word's first sub-token) and `word_starts` (RaggedTensor
            `[batch, (words)]` int32: first sub-token positions, -1 for truncated words).
        """
        words = as_ragged_words(words)
        start_id, end_id, pad_id, _ = self._ids()
        length = self.sequence_length
        max_tokens = length - 2
        pieces = self._word_pieces(words.flat_values)
        counts = pieces.row_lengths()
        # [batch, (tokens)]: every word's pieces, one after another.
        tokens = tf.RaggedTensor.from_row_lengths(pieces.flat_values,
                                                  _segment_totals(counts, words))
        is_first = tf.equal(tf.ragged.range(counts).flat_values, 0)
        position = tf.ragged.range(tokens.row_lengths()).flat_values
        first_position = tf.boolean_mask(position, is_first)  # one per word, in word order
        word_starts = tf.where(first_position < max_tokens, first_position + 1, -1)
        word_starts = words.with_flat_values(tf.cast(word_starts, tf.int32))

        first = tokens.with_flat_values(tf.cast(is_first, tf.float32))[:, :max_tokens]
        ids = tokens[:, :max_tokens]
        batch = ids.nrows()
        shape = tf.stack([batch, tf.constant(length, tf.int64)])

        def pack(ragged, head, tail, fill):
            edge = lambda value: tf.fill(tf.stack([batch, 1]), value)  # noqa: E731
            packed = tf.concat([tf.RaggedTensor.from_tensor(edge(head)), ragged,
                                tf.RaggedTensor.from_tensor(edge(tail))], axis=1)
            return packed.to_tensor(default_value=fill, shape=shape)

        out = {
            "token_ids": pack(ids, start_id, end_id, pad_id),
            "segment_ids": tf.zeros(shape, tf.int32),
            "padding_mask": pack(tf.ones_like(ids), 1, 1, 0),
            "label_weights": pack(first, 0.0, 0.0, 0.0),
            "word_starts": word_starts,
        }
        if labels is not None:
            labels = as_ragged_labels(labels)
            word_label = tf.repeat(labels.flat_values, counts)
            token_labels = tokens.with_flat_values(
                tf.where(is_first, word_label, tf.constant(IGNORED_LABEL, tf.int32)))
            out["labels"] = pack(token_labels[:, :max_tokens], IGNORED_LABEL, IGNORED_LABEL,
                                 IGNORED_LABEL)
        return out

    def call(self, x, y=None, sample_weight=None):
        """`(packed inputs, token labels, label weights)`; labels and weights only with `y`.

        Args:
            x: `[batch, (words)]` strings.
            y: `[batch, (words)]` word label ids, or None (prediction).
            sample_weight: ignored when `y` is given (the alignment defines the weights).
        """
        aligned = self.align(x, y)
        inputs = {name: aligned[name] for name in ("token_ids", "segment_ids", "padding_mask")}
        if y is None:
            return inputs
        return inputs, aligned["labels"], aligned["label_weights"]

    def get_config(self):
        config = super().get_config()
        config.update(sequence_length=self.sequence_length)
        return config


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTokenClassifierPreprocessor(TokenClassifierPreprocessor):
    """`TokenClassifierPreprocessor` over a SentencePiece `keras_hub.models.AlbertTokenizer`.

    Examples:
    >>> pre = AlbertTokenClassifierPreprocessor(tokenizer, sequence_length=32)  # doctest: +SKIP
    >>> x, y, w = pre([["The", "jury", "praised"]], [[5, 0, 1]])  # doctest: +SKIP
    """

    backbone_cls = keras_hub.models.AlbertBackbone
    tokenizer_cls = keras_hub.models.AlbertTokenizer

    def _unknown_id(self) -> int:
        # ALBERT's SentencePiece vocabularies call it `<unk>` (keras-hub names no unknown token).
        return self.tokenizer.token_to_id("<unk>")

    def word_tokenizer(self):
        """The `tensorflow_text.SentencepieceTokenizer` of the vocabulary (the op keras-hub's
        tokenizer runs), created once, eagerly: a resource made while `tf.data` traces a map
        function would not outlive that trace."""
        if self._word_tokenizer is None:
            import tensorflow_text as tf_text

            proto = self.tokenizer.proto
            if isinstance(proto, str):
                with open(proto, "rb") as file:
                    proto = file.read()
            with tf.init_scope():
                self._word_tokenizer = tf_text.SentencepieceTokenizer(model=proto,
                                                                     out_type=tf.int32)
        return self._word_tokenizer


@keras.saving.register_keras_serializable(package="albert_tf")
class BertTokenClassifierPreprocessor(TokenClassifierPreprocessor):
    """`TokenClassifierPreprocessor` over a WordPiece `keras_hub.models.BertTokenizer` (the
    MiniLM teacher, keras-hub BERT presets, and ALBERT students albertized from them).

    Examples:
    >>> pre = BertTokenClassifierPreprocessor(bert_tokenizer, sequence_length=64)  # doctest: +SKIP
    """

    backbone_cls = keras_hub.models.BertBackbone
    tokenizer_cls = keras_hub.models.BertTokenizer

    def _unknown_id(self) -> int:
        return self.tokenizer.token_to_id(self.tokenizer.oov_token)

    def word_tokenizer(self):
        """tensorflow-text's `FastBertTokenizer` over the vocabulary, created once, eagerly.

        It splits punctuation and CJK characters off and applies WordPiece like keras-hub's
        tokenizer. It can lower-case only together with NFD accent stripping, which is how
        BERT's uncased vocabularies (MiniLM's included) were trained, and what
        `albert_tf.models.load_wordpiece_tokenizer` sets; a tokenizer that lower-cases
        without stripping accents is reproduced with stripping.
        """
        if self._word_tokenizer is None:
            import tensorflow_text as tf_text

            tok = self.tokenizer
            lowercase = bool(getattr(tok, "lowercase", False))
            if lowercase != bool(getattr(tok, "strip_accents", lowercase)):
                logger.info("WordPiece words are lower-cased with accents stripped (BERT uncased "
                            "normalisation); the tokenizer's own setting is strip_accents=%s",
                            tok.strip_accents)
            with tf.init_scope():
                self._word_tokenizer = tf_text.FastBertTokenizer(
                    vocab=list(tok.get_vocabulary()), suffix_indicator="##",
                    unknown_token=tok.oov_token, token_out_type=tf.int32,
                    lower_case_nfd_strip_accents=lowercase)
        return self._word_tokenizer


def _segment_totals(counts: tf.Tensor, words: tf.RaggedTensor) -> tf.Tensor:
    """Sum of `counts` (one per word) over each sentence: tokens per sentence."""
    return tf.math.unsorted_segment_sum(counts, words.value_rowids(), words.nrows())
