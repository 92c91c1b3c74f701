"""tf.data batches gathered by index from arrays, in an order that numpy draws.

Why not `Dataset.shuffle(seed=...)`: TensorFlow combines an op seed with the global seed, so a
`tf.random.set_seed` or `keras.utils.set_random_seed` anywhere else in the process changes the
order, and with it what a short training run learns. Here pass `p` over the data (one epoch
of `fit`, one round of `repeat()`) takes `numpy.random.default_rng((seed, p)).permutation`: the
order depends on the seed and the pass number, and on nothing else in the process.

Rows are read by index, so arrays may be memory maps (the teacher cache): each batch reads
only its own rows.

Length bucketing (`lengths=`): padded sequences cost as much as full ones, and tagged
sentences are mostly short (Brown: median 22 WordPiece tokens of 64). Each pass then cuts its
permutation into chunks of `BUCKET_CHUNK_BATCHES` batches, sorts each chunk by length, cuts it
into batches, shuffles the batches, and trims each batch's sequence arrays to its longest row
(rounded up to a multiple of 8, so few shapes get traced). The rows cut off are padding, so a
model sees exactly what it would see untrimmed.
"""

from __future__ import annotations

import threading

import numpy as np

# Rows sorted together by length (in batches): small enough that batches still mix the data.
BUCKET_CHUNK_BATCHES = 50
# Trimmed widths are multiples of this (fewer distinct shapes to trace).
TRIM_MULTIPLE = 8


class EpochOrder:
    """Row order per pass: a fresh permutation each pass when shuffling, else 0..count-1.

    Args:
        count: number of rows.
        shuffle: permute the rows (a new permutation every pass).
        seed: the permutations' seed.
        first_pass: the pass number the first iteration takes (a resumed run passes the
            epochs it already finished, so it sees the orders an unbroken run would).
    """

    def __init__(self, count: int, shuffle: bool, seed: int = 0, first_pass: int = 0):
        if seed < 0:
            raise ValueError(f"`seed` must be >= 0. Received: seed={seed}")
        self.count, self.shuffle, self.seed = int(count), bool(shuffle), int(seed)
        self._next_pass = int(first_pass)
        self._lock = threading.Lock()  # tf.data may start iterators from several threads

    def permutation(self, pass_number: int) -> np.ndarray:
        """The row order of pass `pass_number`."""
        if not self.shuffle:
            return np.arange(self.count, dtype=np.int64)
        return np.random.default_rng((self.seed, pass_number)).permutation(self.count)

    def next_pass(self) -> int:
        with self._lock:
            pass_number = self._next_pass
            self._next_pass += 1
        return pass_number

    def next_order(self) -> np.ndarray:
        return self.permutation(self.next_pass())


def bucketed_batches(order: np.ndarray, lengths: np.ndarray, batch_size: int,
                     rng: np.random.Generator | None) -> list[np.ndarray]:
    """`order` cut into batches of rows of similar length (see the module docstring).

    Args:
        order: the pass's row order.
        lengths: real (unpadded) length of every row.
        batch_size: rows per batch (the last batch of each chunk may be smaller).
        rng: shuffles the batch order; None keeps batches in order (evaluation).
    """
    chunk = batch_size * BUCKET_CHUNK_BATCHES
    batches = []
    for start in range(0, len(order), chunk):
        rows = order[start:start + chunk]
        rows = rows[np.argsort(lengths[rows], kind="stable")]
        batches += [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _bucketed_batch_count(count: int, batch_size: int) -> int:
    chunk = batch_size * BUCKET_CHUNK_BATCHES
    return sum(-(-min(chunk, count - start) // batch_size) for start in range(0, count, chunk))


def array_batches(arrays: dict[str, np.ndarray], batch_size: int, shuffle: bool = False,
                  seed: int = 0, drop_remainder: bool = False, first_pass: int = 0,
                  lengths: np.ndarray | None = None, sequence_arrays=()):
    """A `tf.data.Dataset` of dict batches of `arrays`' rows.

    Args:
        arrays: named arrays sharing their first axis; integer arrays come out as int32,
            floating ones as float32 (float16 caches are widened per batch).
        batch_size: rows per batch.
        shuffle: a new seeded order every pass; otherwise rows keep their order.
        seed: the order's seed (see the module docstring).
        drop_remainder: skip the last, incomplete batch.
        first_pass: see `EpochOrder`.
        lengths: each row's real length: batch rows of similar length and trim the
            `sequence_arrays` (axis 1) to each batch's longest row (see the module docstring).
        sequence_arrays: names of the arrays whose axis 1 is the padded sequence.

    Returns:
        A dataset of `{name: batch}` dicts, one element per batch.
    """
    import tensorflow as tf

    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1. Received: batch_size={batch_size}")
    names = sorted(arrays)
    counts = {len(arrays[n]) for n in names}
    if len(counts) != 1:
        raise ValueError("all arrays must have the same number of rows. Received: "
                         + ", ".join(f"{n}={len(arrays[n])}" for n in names))
    count = counts.pop()
    dtypes = [np.int32 if np.issubdtype(arrays[n].dtype, np.integer) else np.float32
              for n in names]
    order = EpochOrder(count, shuffle, seed, first_pass)
    if lengths is not None:
        return _bucketed(arrays, names, dtypes, order, np.asarray(lengths), batch_size,
                         set(sequence_arrays))

    def gather(indices):
        # Sorted rows read a memory map sequentially; the batch order is restored after.
        rows_order = np.argsort(indices)
        rows = indices[rows_order]
        inverse = np.empty_like(rows_order)
        inverse[rows_order] = np.arange(len(rows_order))
        return [np.asarray(arrays[n][rows], dtype=d)[inverse] for n, d in zip(names, dtypes)]

    def load(indices):
        values = tf.numpy_function(gather, [indices], [tf.as_dtype(d) for d in dtypes])
        for value, name in zip(values, names):
            value.set_shape((None,) + arrays[name].shape[1:])
        return dict(zip(names, values))

    # The generator is called once per pass, so each pass asks `order` for its permutation.
    indices = tf.data.Dataset.from_generator(
        lambda: iter([order.next_order()]),
        output_signature=tf.TensorSpec([count], tf.int64)).unbatch()
    batches = count // batch_size if drop_remainder else -(-count // batch_size)
    return (indices.batch(batch_size, drop_remainder=drop_remainder)
            .map(load)
            .apply(tf.data.experimental.assert_cardinality(batches))
            .prefetch(tf.data.AUTOTUNE))


def _bucketed(arrays, names, dtypes, order: EpochOrder, lengths, batch_size, sequence_arrays):
    import tensorflow as tf

    if drop := sorted(sequence_arrays - set(names)):
        raise ValueError(f"sequence_arrays names unknown arrays: {drop}")
    full = {arrays[n].shape[1] for n in sequence_arrays}
    if len(full) > 1:
        raise ValueError(f"sequence_arrays differ in length: {sorted(full)}")

    def passes():
        pass_number = order.next_pass()
        rng = np.random.default_rng((order.seed, pass_number, 1)) if order.shuffle else None
        yield from bucketed_batches(order.permutation(pass_number), lengths, batch_size, rng)

    def gather(indices):
        rows = np.sort(indices)  # batch order within a batch does not matter to a loss
        width = int(lengths[rows].max()) if len(rows) else 1
        width = -(-width // TRIM_MULTIPLE) * TRIM_MULTIPLE
        out = []
        for name, dtype in zip(names, dtypes):
            value = np.asarray(arrays[name][rows], dtype=dtype)
            out.append(value[:, :width] if name in sequence_arrays else value)
        return out

    def load(indices):
        values = tf.numpy_function(gather, [indices], [tf.as_dtype(d) for d in dtypes])
        for value, name in zip(values, names):
            shape = arrays[name].shape[1:]
            if name in sequence_arrays:
                shape = (None,) + shape[1:]
            value.set_shape((None,) + shape)
        return dict(zip(names, values))

    batches = _bucketed_batch_count(len(lengths), batch_size)
    return (tf.data.Dataset.from_generator(passes,
                                           output_signature=tf.TensorSpec([None], tf.int64))
            .map(load)
            .apply(tf.data.experimental.assert_cardinality(batches))
            .prefetch(tf.data.AUTOTUNE))
