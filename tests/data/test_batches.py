"""Seeded batches: the order depends on the seed and the pass number, nothing else."""

import numpy as np
import pytest

from albert_tf.data.batches import EpochOrder, array_batches


def _orders(dataset, passes):
    return [[int(i) for batch in dataset for i in batch["ids"].numpy()] for _ in range(passes)]


def test_every_pass_is_a_new_permutation_of_every_row():
    ids = np.arange(37)
    first, second = _orders(array_batches({"ids": ids}, 8, shuffle=True, seed=3), 2)
    assert sorted(first) == sorted(second) == list(range(37))
    assert first != second


def test_the_order_ignores_tensorflows_global_seed():
    import tensorflow as tf

    ids = np.arange(40)
    tf.random.set_seed(0)
    before = _orders(array_batches({"ids": ids}, 8, shuffle=True, seed=5), 2)
    tf.random.set_seed(1234)  # with Dataset.shuffle(seed=5) this would change both passes
    after = _orders(array_batches({"ids": ids}, 8, shuffle=True, seed=5), 2)
    assert before == after
    assert before[0] == EpochOrder(40, True, 5).permutation(0).tolist()
    assert _orders(array_batches({"ids": ids}, 8, shuffle=True, seed=6), 1)[0] != before[0]


def test_a_resumed_run_sees_the_orders_an_unbroken_run_would():
    ids = np.arange(30)
    unbroken = _orders(array_batches({"ids": ids}, 4, shuffle=True, seed=2), 3)
    resumed = _orders(array_batches({"ids": ids}, 4, shuffle=True, seed=2, first_pass=2), 1)
    assert resumed[0] == unbroken[2]


def test_rows_stay_aligned_across_arrays_and_keep_their_dtypes():
    ids = np.arange(20)
    features = np.stack([ids * 10, ids * 10 + 1], axis=1).astype(np.int64)
    soft = (ids[:, None] / 100.0 * np.ones((1, 3))).astype(np.float16)
    batches = list(array_batches({"ids": ids, "features": features, "soft": soft}, 6,
                                 shuffle=True, seed=0))
    assert [len(b["ids"]) for b in batches] == [6, 6, 6, 2]
    for batch in batches:
        rows = batch["ids"].numpy()
        assert batch["features"].dtype.name == "int32" and batch["soft"].dtype.name == "float32"
        np.testing.assert_array_equal(batch["features"].numpy()[:, 0], rows * 10)
        np.testing.assert_allclose(batch["soft"].numpy()[:, 2], rows / 100.0, atol=1e-3)


def test_unshuffled_batches_keep_the_order_and_drop_remainder_counts():
    dataset = array_batches({"ids": np.arange(10)}, 4)
    assert _orders(dataset, 1)[0] == list(range(10))
    assert int(dataset.cardinality()) == 3
    assert int(array_batches({"ids": np.arange(10)}, 4, drop_remainder=True).cardinality()) == 2


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="same number of rows"):
        array_batches({"a": np.zeros(3), "b": np.zeros(4)}, 2)
    with pytest.raises(ValueError, match="batch_size=0"):
        array_batches({"a": np.zeros(3)}, 0)
    with pytest.raises(ValueError, match="seed=-1"):
        EpochOrder(3, True, seed=-1)


def _padded(lengths, width=64):
    """Rows of `lengths` real positions (ids 1..n, then 0 padding), one per row id."""
    mask = (np.arange(width)[None, :] < np.asarray(lengths)[:, None]).astype(np.int32)
    return {"ids": np.arange(len(lengths)), "mask": mask, "tokens": mask * 7}


def test_length_buckets_cover_every_row_once_and_trim_only_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 64, size=403)
    arrays = _padded(lengths)
    dataset = array_batches(arrays, 16, shuffle=True, seed=1, lengths=lengths,
                            sequence_arrays=["mask", "tokens"])
    for _ in range(2):  # two passes
        seen = []
        for batch in dataset:
            ids = batch["ids"].numpy()
            width = batch["mask"].shape[1]
            longest = lengths[ids].max()
            # Trimmed to the longest row, rounded up to a multiple of 8: no real position lost.
            assert width % 8 == 0 and longest <= width < longest + 8
            assert (batch["mask"].numpy().sum(axis=1) == lengths[ids]).all()
            assert (batch["tokens"].numpy() == 7 * batch["mask"].numpy()).all()
            seen += ids.tolist()
        assert sorted(seen) == list(range(403))
    assert dataset.cardinality().numpy() == sum(1 for _ in dataset)


def test_length_buckets_group_similar_lengths_in_a_seeded_order():
    rng = np.random.default_rng(1)
    lengths = rng.integers(3, 64, size=800)
    arrays = _padded(lengths)

    def spreads(dataset):
        return [np.ptp(lengths[b["ids"].numpy()]) for b in dataset]

    bucketed = array_batches(arrays, 16, shuffle=True, seed=4, lengths=lengths,
                             sequence_arrays=["mask", "tokens"])
    plain = array_batches(arrays, 16, shuffle=True, seed=4)
    # Sorting within 50-batch chunks leaves a batch a sliver of the length range.
    assert np.median(spreads(bucketed)) < np.median(spreads(plain)) / 5
    # The order depends on the seed and the pass only; a resumed run sees the same passes.
    def passes(dataset, count):
        return [[b["ids"].numpy().tolist() for b in dataset] for _ in range(count)]

    unbroken = passes(array_batches(arrays, 16, shuffle=True, seed=4, lengths=lengths,
                                    sequence_arrays=["mask", "tokens"]), 2)
    assert unbroken[0] != unbroken[1]
    assert passes(bucketed, 1)[0] == unbroken[1]  # `spreads` took its first pass
    resumed = array_batches(arrays, 16, shuffle=True, seed=4, lengths=lengths,
                            sequence_arrays=["mask", "tokens"], first_pass=1)
    assert passes(resumed, 1)[0] == unbroken[1]
