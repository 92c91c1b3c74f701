"""tf.data pipelines for token classification (tagging), word-level prediction and evaluation;
the sentence-classification pipelines are `albert_tf.text.pipeline`.

Training batches are `(x, token_labels, weights)`: the preprocessor aligns word tags to
sub-tokens once into arrays, which are then shuffled and batched every epoch, sentences of
similar length together, each batch trimmed to its longest sentence (`length_buckets`). The weights are
the first-sub-token mask scaled per batch by `positions / labelled positions`, so Keras' default
`sum_over_batch_size` loss is exactly the mean cross-entropy over labelled words, and weighted
accuracy is the accuracy over labelled words (scaling does not change a weighted mean).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import tensorflow as tf

from albert_tf.tagging.examples import TaggedSentences
from albert_tf.tagging.metrics import tagging_report
from albert_tf.tagging.preprocessor import as_ragged_labels, as_ragged_words
from albert_tf.text.pipeline import INPUT_NAMES

logger = logging.getLogger(__name__)

# Sentences aligned per preprocessor call before caching.
ALIGN_CHUNK = 512


def _normalized_weights(x, y, weights):
    total = tf.cast(tf.size(weights), tf.float32)
    return x, y, weights * (total / tf.maximum(tf.reduce_sum(weights), 1.0))


def make_tagging_dataset(data: TaggedSentences, preprocessor, batch_size: int = 32,
                         shuffle: bool = False, seed: int = 0):
    """Aligned `(x, token_labels, weights)` batches for `data`.

    Args:
        data: tagged sentences.
        preprocessor: the model's `AlbertTokenClassifierPreprocessor`.
        batch_size: sentences per batch.
        shuffle: a new order every epoch (training), drawn from `seed` alone (see
            `albert_tf.data.batches`); evaluation keeps the order.
        seed: shuffle seed.
    """
    from albert_tf.data.batches import array_batches

    arrays = align_arrays(data, preprocessor)
    return (array_batches(arrays, batch_size, shuffle=shuffle, seed=seed,
                          **length_buckets(arrays))
            .map(lambda b: _normalized_weights({n: b[n] for n in INPUT_NAMES}, b["labels"],
                                               b["label_weights"]))
            .prefetch(tf.data.AUTOTUNE))


def align_arrays(data: TaggedSentences, preprocessor) -> dict[str, np.ndarray]:
    """Model inputs, token labels and first-sub-token weights for `data`, as numpy arrays
    (aligned once, in chunks, through the preprocessor)."""
    preprocessor.word_tokenizer()  # the tokenizer resource must exist before tracing
    words = as_ragged_words(data.words)
    tags = as_ragged_labels(data.tags)
    names = (*INPUT_NAMES, "labels", "label_weights")

    def align(w, t):
        aligned = preprocessor.align(w, t)
        return {name: aligned[name] for name in names}

    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for chunk in (tf.data.Dataset.from_tensor_slices((words, tags)).batch(ALIGN_CHUNK)
                  .map(align, num_parallel_calls=tf.data.AUTOTUNE).as_numpy_iterator()):
        for name in names:
            parts[name].append(np.asarray(chunk[name]))
    length = int(preprocessor.sequence_length)
    return {name: (np.concatenate(values) if values else np.zeros((0, length), np.int32))
            for name, values in parts.items()}


def length_buckets(arrays: dict) -> dict:
    """`array_batches` arguments that batch sentences of similar length and trim each batch to
    its longest sentence: padding is most of a tagging batch otherwise."""
    return {"lengths": arrays["padding_mask"].sum(axis=1),
            "sequence_arrays": [name for name in arrays if name != "lengths"
                                and np.ndim(arrays[name]) >= 2]}


@dataclasses.dataclass
class WordPredictions:
    """Word-level predictions.

    Args:
        tag_ids: one list per sentence, a tag id per word, -1 for words cut off by truncation.
        probabilities: one `[words, tags]` array per sentence (rows of truncated words are 0).
    """

    tag_ids: list[list[int]]
    probabilities: list[np.ndarray]

    def tag_names(self, names) -> list[list[str | None]]:
        """Tag names per word (None where there is no prediction)."""
        return [[names[i] if i >= 0 else None for i in sentence] for sentence in self.tag_ids]


def gather_word_rows(token_rows: np.ndarray, word_starts) -> tuple[list[list[int]], list[np.ndarray]]:
    """Pick each word's first-sub-token row out of per-token probabilities.

    Args:
        token_rows: `[batch, sequence_length, tags]` probabilities (or logits).
        word_starts: per sentence, each word's first sub-token position (-1: truncated).

    Returns:
        `(tag_ids, rows)`: per sentence the argmax per word (-1 for truncated words) and the
        `[words, tags]` rows.
    """
    tag_ids, rows = [], []
    for sentence, starts in zip(token_rows, word_starts):
        starts = np.asarray(starts, dtype=np.int64)
        picked = sentence[np.maximum(starts, 0)] * (starts >= 0)[:, None]
        rows.append(picked.astype(np.float32))
        tag_ids.append(np.where(starts >= 0, picked.argmax(-1), -1).tolist())
    return tag_ids, rows


def predict_words(tagger, words: list[list[str]], batch_size: int = 64) -> WordPredictions:
    """Tag sentences given as word lists with a Keras token classifier.

    Sentences go through the model shortest first, each batch trimmed to its longest sentence
    (rounded up to a multiple of 8): the positions cut are padding, so the probabilities are
    the untrimmed ones, at a fraction of the cost. Results come back in the input order.

    Args:
        tagger: a `TokenClassifier` with its preprocessor.
        words: one list of words per sentence.
        batch_size: sentences per model call.
    """
    from albert_tf.data.batches import TRIM_MULTIPLE

    preprocessor = tagger.preprocessor
    infer = tf.function(lambda x: tf.nn.softmax(tf.cast(tagger(x, training=False), tf.float32)),
                        reduce_retracing=True)
    order = sorted(range(len(words)), key=lambda i: sum(len(w) for w in words[i]))
    tag_ids, rows = [None] * len(words), [None] * len(words)
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        aligned = preprocessor.align([words[i] for i in batch])
        longest = int(tf.reduce_max(tf.reduce_sum(aligned["padding_mask"], axis=1)))
        width = min(preprocessor.sequence_length, -(-longest // TRIM_MULTIPLE) * TRIM_MULTIPLE)
        probabilities = infer({name: aligned[name][:, :width] for name in INPUT_NAMES}).numpy()
        ids, picked = gather_word_rows(probabilities, aligned["word_starts"].to_list())
        for i, sentence_ids, sentence_rows in zip(batch, ids, picked):
            tag_ids[i], rows[i] = sentence_ids, sentence_rows
    return WordPredictions(tag_ids, rows)


def evaluate_tagger(tagger, data: TaggedSentences, batch_size: int = 64,
                    majority_tag: int | None = None) -> dict:
    """Word-level tagging report of a Keras token classifier on `data`.

    Args:
        tagger: an `AlbertTokenClassifier` with its preprocessor.
        data: tagged sentences (tag ids in the model's order).
        batch_size: sentences per model call.
        majority_tag: the training split's most frequent tag id (adds the baseline).
    """
    predictions = predict_words(tagger, data.words, batch_size)
    names = data.tag_names
    gold = [[names[i] for i in sentence] for sentence in data.tags]
    return tagging_report(gold, predictions.tag_names(names), names,
                          None if majority_tag is None else names[majority_tag])
