"""tf.data batches of student inputs with the teacher's cached targets, row-aligned.

All arrays share their first axis (one row per example). Batches are gathered by index, so the
cached hidden states and attention can stay memory-mapped on disk: only the rows of the
current batch are read (and widened from float16 to float32) each step.
"""

from __future__ import annotations

import numpy as np

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def distillation_dataset(inputs: dict[str, np.ndarray], targets: dict[str, np.ndarray],
                         batch_size: int, shuffle: bool = True, seed: int = 0):
    """`(x, y)` batches: `x` the student's inputs, `y` the teacher's targets (and labels).

    Args:
        inputs: `{"token_ids", "segment_ids", "padding_mask"}` int arrays.
        targets: named arrays (`labels`, `logits`, `hidden_<i>`, `attention_<i>`); float
            arrays may be memory maps.
        batch_size: examples per batch.
        shuffle: reshuffle the examples every epoch (and, with at least one full batch, skip
            the incomplete last batch).
        seed: shuffle seed.
    """
    import tensorflow as tf

    count = len(inputs["token_ids"])
    names = list(INPUT_NAMES) + sorted(targets)
    arrays = [inputs[n] for n in INPUT_NAMES] + [targets[n] for n in sorted(targets)]
    dtypes = [np.int32 if np.issubdtype(a.dtype, np.integer) else np.float32 for a in arrays]

    def gather(indices):
        # Sorted rows read a memory map sequentially; the batch order is restored after.
        order = np.argsort(indices)
        rows = indices[order]
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return [np.asarray(a[rows], dtype=d)[inverse] for a, d in zip(arrays, dtypes)]

    def load(indices):
        values = tf.numpy_function(gather, [indices], [tf.as_dtype(d) for d in dtypes])
        for value, array in zip(values, arrays):
            value.set_shape((None,) + array.shape[1:])
        batch = dict(zip(names, values))
        return {n: batch[n] for n in INPUT_NAMES}, {n: batch[n] for n in sorted(targets)}

    dataset = tf.data.Dataset.range(count)
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    # One batch shape means one traced train step (a ragged last batch would trace a second
    # one, which costs more than the few examples it skips, reshuffled every epoch).
    drop_remainder = shuffle and count >= batch_size
    return (dataset.batch(batch_size, drop_remainder=drop_remainder).map(load)
            .prefetch(tf.data.AUTOTUNE))
