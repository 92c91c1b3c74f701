"""tf.data pipelines: raw examples -> tokenised, batched, prefetched model inputs.

Tokenisation runs through the model's keras-hub preprocessor on large chunks, once, into
int32 arrays; every epoch then only gathers rows of those arrays (`albert_tf.data.batches`,
which also fixes the shuffle order by its own seed). No per-example Python runs on the hot
path, and a finished dataset holds no tokenizer resource that a later
`keras.utils.set_random_seed` (which clears TensorFlow's kernel cache) could destroy.
"""

import logging

import numpy as np

logger = logging.getLogger(__name__)

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")
# Texts per preprocessor call.
TOKENIZE_CHUNK = 1024
# Up to this many texts one eager call is quicker than building (tracing) a tf.data pipeline,
# which costs seconds once but then runs about ten times faster per text.
EAGER_TOKENIZE_LIMIT = 512


def tokenize(preprocessor, texts, pairs=None) -> dict[str, np.ndarray]:
    """Model inputs for `texts` (and `pairs`) as int32 numpy arrays.

    Args:
        preprocessor: a keras-hub text classifier preprocessor (its `sequence_length` applies).
        texts: the (first) texts.
        pairs: the second texts of text pairs, or None.

    Returns:
        `{"token_ids", "segment_ids", "padding_mask"}`, each `(len(texts), sequence_length)`;
        the padding mask is int32, as the backbones declare it (bool tensors cannot cross
        replicas under tf.distribute).
    """
    import tensorflow as tf

    texts = np.asarray(list(texts), dtype=object)
    inputs = (texts,) if pairs is None else (texts, np.asarray(list(pairs), dtype=object))
    if 0 < len(texts) <= EAGER_TOKENIZE_LIMIT:
        batches = [preprocessor(x=tuple(tf.constant(part) for part in inputs))]
    else:
        # Keyword `x=`: a positional (texts, pairs) tuple would be read as (x, y).
        batches = (tf.data.Dataset.from_tensor_slices(inputs).batch(TOKENIZE_CHUNK)
                   .map(lambda *x: preprocessor(x=x), num_parallel_calls=tf.data.AUTOTUNE)
                   .as_numpy_iterator())
    parts: dict[str, list[np.ndarray]] = {}
    for batch in batches:
        for name in INPUT_NAMES:
            parts.setdefault(name, []).append(np.asarray(batch[name], dtype=np.int32))
    if not parts:
        length = int(preprocessor.sequence_length)
        return {name: np.zeros((0, length), np.int32) for name in INPUT_NAMES}
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def make_dataset(examples, preprocessor, batch_size: int = 32, shuffle: bool = False,
                 seed: int = 0, with_labels: bool = True):
    """Tokenised `(x, y)` batches (or `x` alone) for `examples`.

    Args:
        examples: anything with `texts`, optional `pairs` and `labels` (e.g. `TextExamples`).
        preprocessor: a keras-hub text classifier preprocessor (packs `[CLS] A [SEP] (B [SEP])`
            and truncates to its `sequence_length`).
        batch_size: examples per batch.
        shuffle: a new order every epoch (training), drawn from `seed` alone; evaluation
            keeps the order.
        seed: shuffle seed.
        with_labels: yield `(x, y)` pairs; `False` yields only `x` (prediction).

    Returns:
        A `tf.data.Dataset` of dicts with `token_ids`, `segment_ids`, `padding_mask`.
    """
    from albert_tf.data.batches import array_batches

    arrays = tokenize(preprocessor, examples.texts, getattr(examples, "pairs", None))
    if with_labels:
        arrays["labels"] = np.asarray(examples.labels, dtype=np.int32)

    def split(batch):
        x = {name: batch[name] for name in INPUT_NAMES}
        return (x, batch["labels"]) if with_labels else x

    return array_batches(arrays, batch_size, shuffle=shuffle, seed=seed).map(split)
