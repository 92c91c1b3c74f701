"""Splits: disjoint after normalisation, stratified, deterministic; stratified subsets."""

import numpy as np
import pytest

from albert_tf.data import TextExamples, make_splits, subset
from albert_tf.errors import UserError


def _keys(examples):
    return set(examples.keys())


def test_real_combined_splits_share_no_text(combined_sentiment):
    splits = make_splits(combined_sentiment, seed=0)
    train, dev, test = (_keys(s) for s in (splits.train, splits.dev, splits.test))
    assert not train & dev and not train & test and not dev & test
    assert sum(splits.sizes().values()) == len(combined_sentiment)


def test_splits_dedupe_before_splitting():
    # Many copies of one text in different spellings: without de-duplication some would land
    # in train and others in test.
    texts = [f"review number {i}" for i in range(200)] + [
        " ".join(["REVIEW", "number", str(i % 200)]) for i in range(200)
    ]
    labels = np.array([i % 2 for i in range(400)])
    splits = make_splits(TextExamples(texts, None, labels, ["neg", "pos"], "dupes"), seed=3)
    assert sum(splits.sizes().values()) == 200
    assert not _keys(splits.train) & _keys(splits.test) and not _keys(splits.train) & _keys(splits.dev)


def test_splits_are_stratified(combined_sentiment):
    splits = make_splits(combined_sentiment, seed=0, fractions=(0.7, 0.15, 0.15))
    overall = np.bincount(combined_sentiment.labels) / len(combined_sentiment)
    for part, fraction in ((splits.train, 0.7), (splits.dev, 0.15), (splits.test, 0.15)):
        counts = np.bincount(part.labels, minlength=2)
        expected = np.bincount(combined_sentiment.labels) * fraction
        assert np.all(np.abs(counts - expected) <= 1.0)  # largest-remainder rounding per label
        assert np.allclose(counts / len(part), overall, atol=1e-3)


def test_splits_deterministic_per_seed(combined_sentiment):
    a, b = make_splits(combined_sentiment, seed=7), make_splits(combined_sentiment, seed=7)
    assert a.test.texts == b.test.texts and a.train.texts == b.train.texts
    c = make_splits(combined_sentiment, seed=8)
    assert c.test.texts != a.test.texts


def test_tiny_classes_and_sizes():
    labels = np.array([0] * 10 + [1] * 2 + [2])
    examples = TextExamples([f"t{i}" for i in range(13)], None, labels, ["a", "b", "c"], "tiny")
    splits = make_splits(examples, seed=0)
    assert splits.sizes() == {"train": 11, "dev": 1, "test": 1}
    assert set(splits.train.labels.tolist()) == {0, 1, 2}  # a class too small to split stays in train


def test_small_balanced_data_fills_every_split():
    examples = TextExamples([f"t{i}" for i in range(10)], None, np.arange(10) % 2, ["a", "b"], "small")
    assert make_splits(examples, seed=0).sizes() == {"train": 8, "dev": 1, "test": 1}


def test_pairs_and_assigned_splits_are_honoured():
    examples = TextExamples(
        texts=["a", "b", "c", "d", "same"] + ["same"],
        pairs=["1", "2", "3", "4", "x"] + ["x"],
        labels=np.array([0, 1, 0, 1, 1, 1]),
        label_names=["n", "p"],
        source="own",
        assigned_splits=["train", "train", "dev", "test", "train", "test"],
    )
    splits = make_splits(examples, seed=0, fractions=(0.5, 0.25, 0.25))
    assert splits.train.texts == ["a", "b"] and splits.train.pairs == ["1", "2"]
    assert splits.dev.texts == ["c"]
    assert splits.test.texts == ["d", "same"]  # the copy in the published test set is kept


@pytest.mark.parametrize("fractions", [(0.8, 0.2), (0.5, 0.3, 0.3), (0.0, 0.5, 0.5), (1.2, -0.1, -0.1)])
def test_bad_fractions(fractions):
    examples = TextExamples(["a", "b"], None, np.array([0, 1]), ["n", "p"], "x")
    with pytest.raises(UserError, match="split fractions"):
        make_splits(examples, fractions=fractions)


def test_subset_is_stratified_exact_and_seeded(combined_sentiment):
    small = subset(combined_sentiment, 3000, seed=1)
    assert len(small) == 3000
    share = np.bincount(small.labels) / 3000
    assert np.allclose(share, np.bincount(combined_sentiment.labels) / len(combined_sentiment), atol=1e-3)
    assert subset(combined_sentiment, 3000, seed=1).texts == small.texts
    assert subset(combined_sentiment, 3000, seed=2).texts != small.texts
    assert _keys(small) <= _keys(combined_sentiment)
    assert len(subset(combined_sentiment, 10**9)) == len(combined_sentiment)


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_subset_rejects_bad_sizes(n):
    examples = TextExamples(["a"], None, np.array([0]), ["n"], "x")
    with pytest.raises(UserError, match="positive integer"):
        subset(examples, n)


def test_text_examples_select_and_validation():
    examples = TextExamples(["a", "b", "c"], ["x", "y", "z"], [0, 1, 0], ["n", "p"], "demo")
    picked = examples.select([2, 0])
    assert picked.texts == ["c", "a"] and picked.pairs == ["z", "x"] and picked.labels.tolist() == [0, 0]
    assert len(picked) == 2 and picked.source == "demo"
    with pytest.raises(ValueError, match="label ids"):
        TextExamples(["a"], None, [2], ["n", "p"], "bad")
    with pytest.raises(ValueError, match="one entry per text"):
        TextExamples(["a", "b"], ["x"], [0, 1], ["n", "p"], "bad")
