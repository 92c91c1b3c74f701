"""Packing ALBERT's sentence-order pairs and masking them per batch."""

import numpy as np
import pytest

from albert_tf.errors import UserError
from albert_tf.pretrain.segment_pairs import SpecialIds, make_dataset, make_examples

SPECIAL = SpecialIds(pad=0, cls=2, sep=3, mask=4, vocabulary_size=100)


def _documents(seed=0, count=300):
    """Documents of 1-5 segments; every token id says which document and segment it is in
    (document d, segment s -> 10 + 10 * (s % 8) + d % 10)."""
    rng = np.random.default_rng(seed)
    return [[[10 + 10 * s + d % 10] * int(rng.integers(2, 9)) for s in range(int(rng.integers(1, 6)))]
            for d in range(count)]


def _segments(row, examples):
    ids, seg = examples.token_ids[row], examples.segment_ids[row]
    a = ids[1:][(seg[1:] == 0) & (ids[1:] != SPECIAL.pad)]
    b = ids[(seg == 1)]
    return [int(t) for t in a[:-1]], [int(t) for t in b[:-1]]


def test_pairs_are_consecutive_segments_swapped_half_the_time():
    examples = make_examples(_documents(), SPECIAL, sequence_length=32, seed=0)
    pairs = np.flatnonzero(examples.sop_weights == 1)
    assert len(pairs) > 100
    assert 0.4 < examples.sop_labels[pairs].mean() < 0.6
    for row in pairs:
        assert examples.token_ids[row, 0] == SPECIAL.cls
        a, b = _segments(row, examples)
        assert a and b
        # Segment numbers run on from A into B when in order, and back when swapped.
        a_last, b_first = (a[-1] - 10) // 10, (b[0] - 10) // 10
        if examples.sop_labels[row] == 0:
            assert b_first == a_last + 1
        else:
            assert (b[-1] - 10) // 10 + 1 == (a[0] - 10) // 10
    assert (examples.token_ids != SPECIAL.pad).sum(axis=1).max() <= 32


def test_one_segment_documents_train_masked_lm_only():
    documents = [[[7] * 5], [[8] * 4, [9] * 4]]
    examples = make_examples(documents, SPECIAL, sequence_length=16, seed=0)
    assert list(examples.sop_weights) == [0.0, 1.0]
    assert list(examples.token_ids[0, :7]) == [2, 7, 7, 7, 7, 7, 3]
    assert examples.segment_ids[0].sum() == 0


def test_long_pairs_are_trimmed_from_their_far_ends():
    examples = make_examples([[[11] * 10, [12] * 12]], SPECIAL, sequence_length=20, seed=1)
    a, b = _segments(0, examples)
    assert len(a) + len(b) == 17
    if examples.sop_labels[0] == 0:
        assert set(a) == {11} and set(b) == {12}


def test_a_corpus_without_two_segment_documents_is_refused():
    with pytest.raises(UserError, match="two or more segments"):
        make_examples([[[5, 6, 7]], [[8, 9]]], SPECIAL, sequence_length=16)


def test_masking_is_dynamic_and_never_touches_special_tokens():
    import tensorflow as tf

    tf.random.set_seed(0)
    examples = make_examples(_documents(count=400), SPECIAL, sequence_length=32, seed=0)
    data = make_dataset(examples, SPECIAL, batch_size=len(examples), shuffle=False, repeat=True)
    first, second = [batch for _, batch in zip(range(2), data.as_numpy_iterator())]
    x, y, weights = first
    rows = np.arange(len(examples))[:, None]
    positions = x["mask_positions"]
    chosen = weights["mlm"] > 0
    original = examples.token_ids[rows, positions]
    assert (y["mlm"][chosen] == original[chosen]).all()
    assert not np.isin(original[chosen], [SPECIAL.pad, SPECIAL.cls, SPECIAL.sep]).any()
    real_tokens = (~np.isin(examples.token_ids, [0, 2, 3])).sum()
    # 15 % per token (short rows get at least one mask, so a little more in all)
    assert 0.13 < chosen.sum() / real_tokens < 0.2
    replaced = x["token_ids"][rows, positions][chosen]
    assert 0.7 < (replaced == SPECIAL.mask).mean() < 0.9
    assert (second[0]["mask_positions"] != positions).any()  # masked anew each pass
    assert (x["segment_ids"] == examples.segment_ids).all()
    assert (x["padding_mask"] == (examples.token_ids != 0)).all()
