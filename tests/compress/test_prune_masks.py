"""Mask patterns: exact element counts, whole blocks, N:M groups."""

import numpy as np
import pytest
from keras import ops

from albert_tf.compress.prune.masks import block_magnitude_mask, m_by_n_mask, magnitude_mask
from albert_tf.errors import UserError


def as_numpy(x):
    return ops.convert_to_numpy(x)


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_element_mask_prunes_exactly_the_target_count(sparsity):
    weights = np.random.default_rng(0).normal(size=(37, 11)).astype("float32")
    mask = as_numpy(magnitude_mask(weights, sparsity))
    kept = max(round(weights.size * (1 - sparsity)), 1)
    assert mask.sum() == kept
    # The kept entries are the largest in magnitude.
    assert np.abs(weights[mask == 1]).min() >= np.abs(weights[mask == 0]).max(initial=0)


def test_element_mask_count_is_exact_with_ties():
    mask = as_numpy(magnitude_mask(np.ones((10, 10), "float32"), 0.37))
    assert mask.sum() == 63


def test_block_mask_keeps_or_drops_whole_tiles():
    weights = np.random.default_rng(1).normal(size=(8, 12)).astype("float32")
    mask = as_numpy(block_magnitude_mask(weights, 0.5, (1, 4)))
    tiles = mask.reshape(8, 3, 4)
    assert np.all(tiles.min(-1) == tiles.max(-1))
    assert tiles[..., 0].sum() == 12  # half of the 24 tiles kept
    # Tiles are ranked by their mean magnitude.
    scores = np.abs(weights).reshape(8, 3, 4).mean(-1)
    assert scores[tiles[..., 0] == 1].min() >= scores[tiles[..., 0] == 0].max()


def test_block_mask_handles_ragged_edges():
    weights = np.random.default_rng(2).normal(size=(5, 6)).astype("float32")
    mask = as_numpy(block_magnitude_mask(weights, 0.5, (2, 4), pooling="MAX"))
    assert mask.shape == (5, 6)
    assert set(np.unique(mask)) <= {0.0, 1.0}


def test_two_of_four_zeroes_two_smallest_in_every_input_group():
    weights = np.random.default_rng(3).normal(size=(16, 5)).astype("float32")
    mask = as_numpy(m_by_n_mask(weights, 2, 4))
    groups = mask.reshape(4, 4, 5)
    assert np.all(groups.sum(axis=1) == 2)
    magnitudes = np.abs(weights).reshape(4, 4, 5)
    kept_min = np.where(groups == 1, magnitudes, np.inf).min(axis=1)
    dropped_max = np.where(groups == 0, magnitudes, -np.inf).max(axis=1)
    assert np.all(kept_min >= dropped_max)


def test_m_by_n_needs_divisible_inputs():
    with pytest.raises(UserError):
        m_by_n_mask(np.ones((6, 3), "float32"), 2, 4)
    with pytest.raises(UserError):
        m_by_n_mask(np.ones((8, 3), "float32"), 4, 4)
