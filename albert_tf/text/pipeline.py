"""tf.data pipelines: raw examples -> tokenised, batched, prefetched model inputs.

Tokenisation runs inside tf.data through the model's keras-hub preprocessor, on large
batches, once: the tokenised examples are cached, then shuffled and batched for every epoch.
No per-example Python runs on the hot path.
"""

import logging

import numpy as np

logger = logging.getLogger(__name__)

# Examples are tokenised this many at a time before caching (one preprocessor call each).
TOKENIZE_CHUNK = 1024


def raw_inputs(examples):
    """The preprocessor's input for `examples`: a 1-tuple of texts, or a (texts, pairs) pair."""
    texts = np.asarray(examples.texts, dtype=object)
    if getattr(examples, "pairs", None) is not None:
        return (texts, np.asarray(examples.pairs, dtype=object))
    return (texts,)


def make_dataset(examples, preprocessor, batch_size: int = 32, shuffle: bool = False,
                 seed: int = 0, with_labels: bool = True):
    """Tokenised `(x, y)` batches (or `x` alone) for `examples`.

    Args:
        examples: anything with `texts`, optional `pairs` and `labels` (e.g. `TextExamples`).
        preprocessor: a keras-hub text classifier preprocessor (packs `[CLS] A [SEP] (B [SEP])`
            and truncates to its `sequence_length`).
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (training); evaluation keeps the order.
        seed: shuffle seed.
        with_labels: yield `(x, y)` pairs; `False` yields only `x` (prediction).

    Returns:
        A `tf.data.Dataset` of dicts with `token_ids`, `segment_ids`, `padding_mask`.
    """
    import tensorflow as tf

    def features(x):
        # Keyword `x=`: a positional (texts, pairs) tuple would be read as (x, y).
        out = preprocessor(x=x)
        # int32 mask, as the backbones declare it: bool tensors cannot cross replicas
        # under tf.distribute (MirroredStrategy rejects them).
        return {**out, "padding_mask": tf.cast(out["padding_mask"], tf.int32)}

    inputs = raw_inputs(examples)
    if with_labels:
        labels = np.asarray(examples.labels, dtype=np.int32)
        ds = tf.data.Dataset.from_tensor_slices((inputs, labels))
        tokenize = lambda x, y: (features(x), y)  # noqa: E731
    else:
        ds = tf.data.Dataset.from_tensor_slices(inputs)
        tokenize = features
    ds = (ds.batch(TOKENIZE_CHUNK)
            .map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)
            .unbatch()
            # Known length: progress bars show totals and Keras needs no "ran out of data".
            .apply(tf.data.experimental.assert_cardinality(len(examples.texts)))
            .cache())
    if shuffle:
        ds = ds.shuffle(len(examples.texts), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
