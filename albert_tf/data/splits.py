"""Deterministic, stratified train / dev / test splits and subsets.

Examples are de-duplicated on `normalized_text_key` before splitting, so no text (after
normalising case and whitespace) can be in two splits, whether it came from one source or from
several combined. All randomness comes from `numpy.random.default_rng(seed)`, whose stream is
the same on every platform, so a seed names the same split everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from albert_tf.data.examples import SPLIT_NAMES, TextExamples, deduplicate
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


class Splits(NamedTuple):
    """Train, dev and test examples of one task, the type every loader returns and every
    verb (`albert_tf.finetune`, `distill`, ...) takes.

    A named tuple, so `train, dev, test = splits` and `splits.train` both work.

    Args:
        train: examples to fit on: `TextExamples` (classification) or `TaggedSentences`
            (token classification).
        dev: examples of the same type for model selection and early stopping.
        test: held-out examples of the same type for the final numbers.
    """

    train: Any
    dev: Any
    test: Any

    def sizes(self) -> dict[str, int]:
        """`{"train": n, "dev": n, "test": n}` (0 for a missing split)."""
        parts = {name: getattr(self, name) for name in SPLIT_NAMES}
        return {name: 0 if part is None else len(part) for name, part in parts.items()}


def make_splits(
    examples: TextExamples, seed: int = 0, fractions: Sequence[float] = DEFAULT_FRACTIONS
) -> Splits:
    """Split examples into train / dev / test: stratified by label, seeded, deterministic.

    Duplicates (same normalised text) are removed first. Sources that come with their own
    splits (`examples.assigned_splits`, e.g. tfds) keep them and `fractions` is not used.

    Args:
        examples: the examples to split.
        seed: the split's seed; the same seed and data give the same split.
        fractions: train, dev and test fractions (non-negative, summing to 1, train > 0).

    Examples:
    >>> ex = TextExamples([f"text {i}" for i in range(20)], None, np.arange(20) % 2, ["a", "b"], "demo")
    >>> make_splits(ex, seed=0).sizes()
    {'train': 16, 'dev': 2, 'test': 2}
    """
    fractions = _checked_fractions(fractions)
    if len(examples) == 0:
        raise UserError(f"{examples.source} has no examples to split")
    unique = deduplicate(examples)
    if unique.assigned_splits is not None:
        assigned = np.array(unique.assigned_splits, dtype=object)
        parts = [np.flatnonzero(assigned == name) for name in SPLIT_NAMES]
        logger.info("%s: using the source's own splits (fractions %s not used)", unique.source, fractions)
    else:
        parts = stratified_partition(unique.labels, fractions, seed)
    splits = Splits(*(unique.select(idx) for idx in parts))
    logger.info("%s: split %d examples into %s (seed %d)", unique.source, len(unique), splits.sizes(), seed)
    return splits


def subset(examples: TextExamples, n: int, seed: int = 0) -> TextExamples:
    """A stratified random subset of `n` examples (label proportions kept), for CPU budgets.

    Args:
        examples: the examples to sample from.
        n: how many to keep; if `n >= len(examples)` all are kept (in shuffled order).
        seed: the sample's seed.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UserError(f"subset size must be a positive integer, got {n!r}")
    if len(examples) == 0:
        raise UserError(f"{examples.source} has no examples to take a subset of")
    n = min(int(n), len(examples))
    fraction = n / len(examples)
    chosen, _ = stratified_partition(examples.labels, (fraction, 1 - fraction), seed, total=n)
    return examples.select(chosen)


def stratified_partition(
    labels: np.ndarray, fractions: Sequence[float], seed: int, total: int | None = None
) -> list[np.ndarray]:
    """Partition positions 0..len(labels)-1 into parts with the given fractions, per label.

    Within each label the positions are shuffled and cut into the parts' shares (rounded
    so that the overall part sizes stay as close as possible to the fractions), so every part
    gets its share of every label. Each part comes back in shuffled order.

    Args:
        labels: label id per position.
        fractions: one fraction per part, summing to 1.
        seed: seed of the shuffles.
        total: if given, the first part gets exactly this many positions overall (the
            per-label counts are then apportioned by largest remainder across labels).
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    members = [np.flatnonzero(labels == c) for c in classes]
    members = [rng.permutation(idx) for idx in members]
    if total is not None:
        firsts = _largest_remainder(
            np.array([len(m) for m in members]) * (total / max(1, len(labels))), total
        )
        counts = [np.array([k, len(m) - k]) for k, m in zip(firsts, members)]
    else:
        counts = _per_label_counts([len(m) for m in members], np.asarray(fractions, float))
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for idx, cut in zip(members, counts):
        bounds = np.concatenate([[0], np.cumsum(cut)])
        for p in range(len(fractions)):
            parts[p].append(idx[bounds[p] : bounds[p + 1]])
    return [rng.permutation(np.concatenate(p)) if p else np.zeros(0, np.int64) for p in parts]


def _per_label_counts(label_sizes: list[int], fractions: np.ndarray) -> list[np.ndarray]:
    """Cut each label's examples into parts: its floor share, plus leftovers to the parts
    furthest behind their overall share so far (so 5 + 5 examples at 0.8/0.1/0.1 give
    8/1/1 overall, not 8/2/0)."""
    allocated = np.zeros(len(fractions), np.int64)
    seen = 0
    counts = []
    for size in label_sizes:
        seen += size
        cut = np.floor(size * fractions).astype(np.int64)
        deficit = seen * fractions - (allocated + cut)
        for _ in range(size - int(cut.sum())):
            k = int(np.argmax(deficit))  # ties: the earlier part (train, then dev)
            cut[k] += 1
            deficit[k] -= 1
        allocated += cut
        counts.append(cut)
    return counts


def _largest_remainder(quotas: np.ndarray, total: int) -> np.ndarray:
    """Integers summing to `total`, each the floor of its quota plus at most one."""
    floors = np.floor(quotas).astype(np.int64)
    short = int(total - floors.sum())
    # Stable sort: ties go to the earlier entry (train before dev before test).
    order = np.argsort(-(quotas - floors), kind="stable")
    floors[order[:short]] += 1
    return floors


def _checked_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(f) for f in fractions)
    if len(values) != 3 or any(f < 0 for f in values) or abs(sum(values) - 1) > 1e-6 or values[0] <= 0:
        raise UserError(
            f"split fractions must be three non-negative numbers (train, dev, test) summing to 1 "
            f"with train > 0, "
            f"got {fractions}"
        )
    return values
