"""Magnitude masks: which entries of a weight tensor to keep (1) and which to zero (0).

Three patterns, all ranked by absolute value:

* element-wise (`magnitude_mask`): exactly `max(round(n * (1 - sparsity)), 1)` entries are
  kept, as in tfmot; ties are broken by position, so the count is exact even when many
  weights are equal (for example already zero);
* blocks (`block_magnitude_mask`): the matrix is cut into `block_shape` tiles, each tile is
  scored by the mean (or max) of its absolute values, whole tiles are kept or zeroed. Tiles
  that run over the edge are scored on their valid entries only (tfmot's SAME pooling).
  Sparse kernels of 1x4 or 4x1 tiles suit SIMD and block-sparse matmuls;
* N:M (`m_by_n_mask`): in every group of `n` consecutive entries along the input axis of a
  kernel, the `m` smallest are zeroed (tfmot's `sparsity_m_by_n`; 2:4 is what sparse tensor
  cores accelerate). The sparsity is fixed at `m / n` whatever the schedule says.

Masks are computed with `keras.ops`, so they stay on the device holding the weights.
"""

import keras
from keras import ops

from albert_tf.errors import UserError

BLOCK_POOLING = ("AVG", "MAX")


def kept_count(size: int, sparsity: float) -> int:
    """Entries kept out of `size` at `sparsity` (tfmot's rounding, at least one).

    Args:
        size: number of entries.
        sparsity: fraction to zero, in [0, 1).
    """
    return max(int(round(size * (1.0 - sparsity))), 1)


def magnitude_mask(weights, sparsity: float):
    """Keep the largest-magnitude entries of `weights`, zero the rest.

    Args:
        weights: tensor or variable of any shape.
        sparsity: fraction of entries to zero, in [0, 1).

    Returns:
        A tensor of the shape and dtype of `weights` holding 0 and 1.
    """
    shape = tuple(weights.shape)
    size = 1
    for dim in shape:
        size *= int(dim)
    keep = kept_count(size, sparsity)
    dtype = keras.backend.standardize_dtype(weights.dtype)
    if keep == size:
        return ops.ones(shape, dtype=dtype)
    flat = ops.abs(ops.reshape(ops.convert_to_tensor(weights), (-1,)))
    _, indices = ops.top_k(flat, k=keep, sorted=False)
    mask = ops.scatter(ops.expand_dims(indices, -1), ops.ones((keep,), dtype=dtype), (size,))
    return ops.reshape(mask, shape)


def block_magnitude_mask(matrix, sparsity: float, block_shape: tuple[int, int],
                         pooling: str = "AVG"):
    """Keep or zero whole `block_shape` tiles of a 2-D matrix by their pooled magnitude.

    Args:
        matrix: 2-D tensor or variable (rows = inputs, columns = outputs).
        sparsity: fraction of tiles to zero, in [0, 1).
        block_shape: (tile rows, tile columns).
        pooling: "AVG" or "MAX": how a tile's absolute values are summarised.

    Returns:
        A 0/1 tensor of the matrix's shape and dtype.
    """
    if pooling not in BLOCK_POOLING:
        raise UserError(f"block pooling must be one of {BLOCK_POOLING}. Received: {pooling!r}")
    block_rows, block_cols = (int(b) for b in block_shape)
    if block_rows < 1 or block_cols < 1:
        raise UserError(f"block_size entries must be >= 1. Received: {tuple(block_shape)}")
    if (block_rows, block_cols) == (1, 1):
        return magnitude_mask(matrix, sparsity)
    rows, cols = (int(d) for d in matrix.shape)
    dtype = keras.backend.standardize_dtype(matrix.dtype)
    tiles_down = -(-rows // block_rows)
    tiles_across = -(-cols // block_cols)
    padding = ((0, tiles_down * block_rows - rows), (0, tiles_across * block_cols - cols))
    magnitudes = ops.pad(ops.abs(ops.convert_to_tensor(matrix)), padding)
    magnitudes = ops.reshape(magnitudes, (tiles_down, block_rows, tiles_across, block_cols))
    if pooling == "MAX":
        scores = ops.max(magnitudes, axis=(1, 3))
    else:
        valid = ops.reshape(ops.pad(ops.ones((rows, cols), dtype=dtype), padding),
                            (tiles_down, block_rows, tiles_across, block_cols))
        scores = ops.sum(magnitudes, axis=(1, 3)) / ops.sum(valid, axis=(1, 3))
    tile_mask = magnitude_mask(scores, sparsity)
    mask = ops.repeat(ops.repeat(tile_mask, block_rows, axis=0), block_cols, axis=1)
    return mask[:rows, :cols]


def m_by_n_mask(matrix, m: int, n: int):
    """Zero the `m` smallest of every `n` consecutive entries along the rows (inputs).

    Args:
        matrix: 2-D tensor or variable (rows = inputs, columns = outputs); rows must be a
            multiple of `n`.
        m: zeros per group, 0 < m < n.
        n: group length.

    Returns:
        A 0/1 tensor of the matrix's shape and dtype.
    """
    if not 0 < m < n:
        raise UserError(f"sparsity_m_by_n needs 0 < m < n. Received: ({m}, {n})")
    rows, cols = (int(d) for d in matrix.shape)
    if rows % n:
        raise UserError(f"{m}:{n} sparsity needs the kernel's input size to be a multiple of "
                        f"{n}. Received: a {rows}x{cols} kernel")
    dtype = keras.backend.standardize_dtype(matrix.dtype)
    groups = ops.reshape(ops.abs(ops.convert_to_tensor(matrix)), (rows // n, n, cols))
    groups = ops.transpose(groups, (0, 2, 1))  # (group, column, position in group)
    _, keep_positions = ops.top_k(groups, k=n - m, sorted=False)
    keep = ops.sum(ops.one_hot(keep_positions, n, dtype=dtype), axis=-2)
    return ops.reshape(ops.transpose(keep, (0, 2, 1)), (rows, cols))
