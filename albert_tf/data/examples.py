"""`TextExamples`: labelled texts (optionally text pairs) as one small, typed container.

Everything in `albert_tf.data` produces or consumes this class: the named sources, the file
readers, `make_splits`, `subset`. It also owns the one definition of "the same text"
(`normalized_text_key`), so de-duplication and split disjointness agree everywhere.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

# Split names used by `TextExamples.assigned_splits` and `Splits`.
SPLIT_NAMES = ("train", "dev", "test")

# Label id of an unlabelled example (label_names is then empty).
UNLABELLED = -1


def normalized_text_key(text: str, pair: str | None = None) -> str:
    """The key under which two examples count as the same text.

    Unicode NFKC, case-folded, runs of whitespace collapsed to one space, ends stripped.
    A pair is part of the key (separated by a character no text contains after folding).

    Args:
        text: the first (or only) text.
        pair: the second text of a text pair, or None.
    """
    key = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    if pair is not None:
        key += "\x00" + " ".join(unicodedata.normalize("NFKC", pair).casefold().split())
    return key


@dataclasses.dataclass
class TextExamples:
    """Texts (optionally pairs) with integer labels and the names of those labels.

    Args:
        texts: the (first) texts.
        pairs: the second texts of text pairs, same length as `texts`, or None.
        labels: int32 label ids in `[0, len(label_names))`; all `-1` when unlabelled
            (then `label_names` is empty).
        label_names: name of each label id.
        source: where the examples came from (a source name, a file path, `a+b`).
        assigned_splits: for sources that come with their own splits (tfds), the split of
            each example ("train", "dev" or "test"); None otherwise. `make_splits` honours it.

    Examples:
    >>> ex = TextExamples(["good", "bad"], None, np.array([1, 0]), ["negative", "positive"], "demo")
    >>> len(ex), ex.select([1]).texts
    (2, ['bad'])
    """

    texts: list[str]
    pairs: list[str] | None
    labels: np.ndarray
    label_names: list[str]
    source: str
    assigned_splits: list[str] | None = None

    def __post_init__(self):
        self.texts = list(self.texts)
        self.pairs = None if self.pairs is None else list(self.pairs)
        self.labels = np.asarray(self.labels, dtype=np.int32).reshape(-1)
        self.label_names = list(self.label_names)
        n = len(self.texts)
        if self.pairs is not None and len(self.pairs) != n:
            raise ValueError(
                f"`pairs` must have one entry per text. Received: {len(self.pairs)} pairs and {n} texts"
            )
        if self.labels.shape[0] != n:
            raise ValueError(
                f"`labels` must have one entry per text. Received: {self.labels.shape[0]} labels "
                f"and {n} texts"
            )
        if self.label_names:
            if n and (self.labels.min() < 0 or self.labels.max() >= len(self.label_names)):
                raise ValueError(
                    f"label ids must lie in [0, {len(self.label_names)}) for label_names={self.label_names}. "
                    f"Received: ids from {self.labels.min()} to {self.labels.max()}"
                )
        elif n and np.any(self.labels != UNLABELLED):
            raise ValueError("labels without `label_names`: unlabelled examples must all have label -1")
        if self.assigned_splits is not None:
            self.assigned_splits = list(self.assigned_splits)
            unknown = set(self.assigned_splits) - set(SPLIT_NAMES)
            if len(self.assigned_splits) != n or unknown:
                raise ValueError(
                    f"`assigned_splits` must give one of {SPLIT_NAMES} per text. "
                    f"Received: {len(self.assigned_splits)} entries for {n} texts, "
                    f"unknown names {sorted(unknown)}"
                )

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def is_labelled(self) -> bool:
        """True when the examples carry labels (label_names is not empty)."""
        return bool(self.label_names)

    def select(self, indices: Sequence[int] | np.ndarray) -> TextExamples:
        """The examples at `indices`, in that order, as a new `TextExamples`.

        Args:
            indices: integer positions (a list or an int array).
        """
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        return TextExamples(
            texts=[self.texts[i] for i in idx],
            pairs=None if self.pairs is None else [self.pairs[i] for i in idx],
            labels=self.labels[idx],
            label_names=self.label_names,
            source=self.source,
            assigned_splits=None if self.assigned_splits is None else [self.assigned_splits[i] for i in idx],
        )

    def keys(self) -> list[str]:
        """The `normalized_text_key` of every example, in order."""
        pairs = self.pairs if self.pairs is not None else [None] * len(self.texts)
        return [normalized_text_key(t, p) for t, p in zip(self.texts, pairs)]

    def label_counts(self) -> dict[str, int]:
        """Number of examples per label name (every name listed, zero counts included)."""
        if not self.is_labelled:
            return {"(unlabelled)": len(self)}
        counts = np.bincount(self.labels, minlength=len(self.label_names))
        return {name: int(c) for name, c in zip(self.label_names, counts)}

    def save_label_map(self, path: str | os.PathLike) -> Path:
        """Write the label mapping as JSON (`label_names` and `label_to_id`), atomically.

        Pass the saved names back with `load_source(..., label_names=load_label_map(path))`
        so another file (a test set, new data) gets the same ids.

        Args:
            path: the .json file to write.
        """
        path = Path(path)
        payload = {
            "label_names": self.label_names,
            "label_to_id": {name: i for i, name in enumerate(self.label_names)},
            "source": self.source,
        }
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path


def load_label_map(path: str | os.PathLike) -> list[str]:
    """Label names (index = id) from a file written by `TextExamples.save_label_map`.

    Args:
        path: the .json file.
    """
    path = Path(path)
    try:
        names = json.loads(path.read_text(encoding="utf-8"))["label_names"]
    except FileNotFoundError:
        raise UserError(
            f"label map {path} does not exist; write one with TextExamples.save_label_map"
        ) from None
    except (ValueError, KeyError, TypeError):
        raise UserError(f"label map {path} is not a JSON object with a 'label_names' list") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UserError(f"label map {path}: 'label_names' must be a list of strings")
    return names


def deduplicate(examples: TextExamples) -> TextExamples:
    """Keep one example per `normalized_text_key`; drop keys whose copies disagree on the label.

    The first copy is kept, except that with `assigned_splits` a copy in "test" wins over one
    in "dev", which wins over one in "train" (a source's published test set stays whole). A
    text that carries two different labels (the same snippet rated positive in one source and
    negative in another) is ambiguous, so all its copies go rather than an arbitrary one.

    Args:
        examples: the examples to de-duplicate.
    """
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(examples.keys()):
        groups.setdefault(key, []).append(i)
    priority = {"test": 0, "dev": 1, "train": 2}
    keep, conflicting = [], 0
    for indices in groups.values():
        if len(indices) > 1 and len(set(examples.labels[indices].tolist())) > 1:
            conflicting += len(indices)
            continue
        if examples.assigned_splits is None:
            keep.append(indices[0])
        else:
            keep.append(min(indices, key=lambda i: (priority[examples.assigned_splits[i]], i)))
    dropped = len(examples) - len(keep)
    if dropped:
        logger.info(
            "%s: dropped %d duplicate examples (same text after normalising case and whitespace), "
            "%d of them copies of texts that carry different labels",
            examples.source,
            dropped,
            conflicting,
        )
    return examples.select(sorted(keep))


def concatenate(parts: Iterable[TextExamples]) -> TextExamples:
    """Concatenate examples from several sources with the same labels, then de-duplicate.

    Args:
        parts: the sources' examples; all must have the same `label_names` and either all or
            none must have text pairs.
    """
    parts = list(parts)
    if not parts:
        raise UserError("nothing to combine: give at least one source")
    first = parts[0]
    for part in parts[1:]:
        if part.label_names != first.label_names:
            raise UserError(
                f"cannot combine {first.source} and {part.source}: their labels differ "
                f"({first.label_names} vs {part.label_names}); combine sources with the same label names"
            )
        if (part.pairs is None) != (first.pairs is None):
            raise UserError(
                f"cannot combine {first.source} and {part.source}: one has text pairs and the other not"
            )
    keep_splits = all(p.assigned_splits is not None for p in parts)
    if not keep_splits and any(p.assigned_splits is not None for p in parts):
        logger.info(
            "combined sources: not all have their own splits, so make_splits will split them all anew"
        )
    combined = TextExamples(
        texts=[t for p in parts for t in p.texts],
        pairs=None if first.pairs is None else [t for p in parts for t in p.pairs],
        labels=np.concatenate([p.labels for p in parts]) if parts else np.zeros(0, np.int32),
        label_names=first.label_names,
        source="+".join(p.source for p in parts),
        assigned_splits=[s for p in parts for s in p.assigned_splits] if keep_splits else None,
    )
    return deduplicate(combined)
