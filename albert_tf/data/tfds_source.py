"""`tfds:NAME` sources through tensorflow-datasets (optional: `pip install albert_tf[tfds]`).

tensorflow-datasets downloads from the data sets' own hosts, so this path is for machines with
a network. The source's own splits are kept and recorded in `TextExamples.assigned_splits`:

- "train" stays train; "dev" is the source's validation split when its test split has labels,
  otherwise 10 % of train carved off (stratified, seeded) - see below;
- "test" is the source's labelled test split. GLUE (and others) publish test splits without
  labels (label -1), so there the validation split becomes "test" and dev is carved from train.

The conversion from a `tf.data.Dataset` of feature dicts (`examples_from_tf_dataset`,
`examples_from_split_datasets`) needs no network and is what the tests exercise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from albert_tf.data.examples import TextExamples
from albert_tf.data.splits import stratified_partition
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

TFDS_PREFIX = "tfds:"
# Feature names tried, in order, when no text column is given (GLUE, IMDB, AG News, ...).
TEXT_FEATURE_CANDIDATES = ("sentence", "text", "sentence1", "question", "question1", "premise", "description")
PAIR_FEATURE_CANDIDATES = {
    "sentence1": "sentence2",
    "question": "sentence",
    "question1": "question2",
    "premise": "hypothesis",
}
DEV_FRACTION_OF_TRAIN = 0.1


def load_tfds(
    spec: str,
    text_column: str | None = None,
    pair_column: str | None = None,
    label_column: str | None = None,
    seed: int = 0,
) -> TextExamples:
    """Load `tfds:NAME` (e.g. `tfds:glue/sst2`, `tfds:imdb_reviews`) with its own splits.

    Args:
        spec: `"tfds:"` followed by a tensorflow-datasets name (with config, e.g. `glue/mrpc`).
        text_column: the text feature; None picks the first of `TEXT_FEATURE_CANDIDATES`.
        pair_column: the second-text feature; None picks the usual partner of the text
            feature when the data set has it (`sentence1` -> `sentence2`).
        label_column: the label feature (default `"label"`).
        seed: seed for carving dev out of train when the source has no usable dev split.

    Raises:
        UserError: tensorflow-datasets is not installed, the name is unknown, or a column is
            missing.
    """
    name = spec[len(TFDS_PREFIX) :] if spec.startswith(TFDS_PREFIX) else spec
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise UserError(
            f"source {spec!r} needs tensorflow-datasets: pip install 'albert_tf[tfds]' "
            f"(and a network to download "
            f"{name}); without it use a named source or a local .csv/.tsv/.jsonl file"
        ) from None
    try:
        builder = tfds.builder(name)
    except Exception as exc:  # tfds raises its own DatasetNotFoundError and friends
        raise UserError(f"tensorflow-datasets does not know {name!r}: {exc}") from None
    logger.info("preparing %s with tensorflow-datasets (downloads on first use)", name)
    try:
        builder.download_and_prepare()
    except (OSError, tfds.download.DownloadError) as exc:  # requests' errors are OSErrors
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise UserError(
            f"could not download {name!r} with tensorflow-datasets ({type(exc).__name__}: "
            f"{reason}): check the network, or prepare it where there is one and copy its "
            "data_dir (~/tensorflow_datasets or $TFDS_DATA_DIR) here"
        ) from None
    datasets = {split: builder.as_dataset(split=split) for split in builder.info.splits}
    label_column = label_column or "label"
    features = builder.info.features
    # ClassLabel features carry their names; other label features get "0", "1", ...
    label_names = (
        list(getattr(features[label_column], "names", None) or []) if label_column in features else []
    )
    return examples_from_split_datasets(
        datasets,
        source=spec,
        text_column=text_column,
        pair_column=pair_column,
        label_column=label_column,
        label_names=label_names or None,
        seed=seed,
    )


def examples_from_tf_dataset(
    dataset: Any,
    text_column: str,
    pair_column: str | None,
    label_column: str,
) -> tuple[list[str], list[str] | None, np.ndarray]:
    """Texts, pairs and labels from a `tf.data.Dataset` of feature dicts (tfds' format).

    Args:
        dataset: yields dicts of scalars: string features as bytes, labels as integers.
        text_column: the text feature.
        pair_column: the second-text feature, or None.
        label_column: the label feature.
    """
    texts, pairs, labels = [], [], []
    for row in dataset.as_numpy_iterator():
        columns = [c for c in (text_column, pair_column, label_column) if c is not None]
        missing = [c for c in columns if c not in row]
        if missing:
            raise UserError(f"feature {missing[0]!r} does not exist; features are: {', '.join(sorted(row))}")
        texts.append(_as_text(row[text_column]))
        if pair_column is not None:
            pairs.append(_as_text(row[pair_column]))
        labels.append(int(row[label_column]))
    return texts, (pairs if pair_column is not None else None), np.array(labels, np.int32)


def examples_from_split_datasets(
    datasets: Mapping[str, Any],
    source: str,
    text_column: str | None = None,
    pair_column: str | None = None,
    label_column: str = "label",
    label_names: Sequence[str] | None = None,
    seed: int = 0,
) -> TextExamples:
    """Combine a source's split datasets into `TextExamples` with `assigned_splits`.

    Args:
        datasets: `{"train": ds, "validation": ds, "test": ds}` (validation and test optional)
            of feature dicts.
        source: the name recorded on the examples.
        text_column: the text feature; None picks the first of `TEXT_FEATURE_CANDIDATES`.
        pair_column: the second-text feature; None picks the text feature's usual partner.
        label_column: the label feature.
        label_names: names of the label ids; None uses "0", "1", ...
        seed: seed for carving dev from train.
    """
    if "train" not in datasets:
        raise UserError(f"{source} has no train split (splits: {', '.join(datasets)})")
    features = set(datasets["train"].element_spec)
    if text_column is None:
        text_column = next((c for c in TEXT_FEATURE_CANDIDATES if c in features), None)
        if text_column is None:
            raise UserError(
                f"{source}: no text feature found; pass text_column (features: {', '.join(sorted(features))})"
            )
        if pair_column is None and PAIR_FEATURE_CANDIDATES.get(text_column) in features:
            pair_column = PAIR_FEATURE_CANDIDATES[text_column]
    # Only these three are used; others (e.g. IMDB's 50,000 "unsupervised" reviews) are skipped.
    converted = {
        split: examples_from_tf_dataset(ds, text_column, pair_column, label_column)
        for split, ds in datasets.items()
        if split in ("train", "validation", "test")
    }

    def labelled(split: str) -> bool:
        return split in converted and len(converted[split][2]) > 0 and bool(np.all(converted[split][2] >= 0))

    train_texts, train_pairs, train_labels = converted["train"]
    train_assignment = np.array(["train"] * len(train_texts), dtype=object)
    parts = [converted["train"]]
    assignments = [train_assignment]
    if labelled("test"):
        test_split, dev_split = "test", "validation" if labelled("validation") else None
    else:
        if "test" in converted:
            logger.info("%s: the test split has no labels; its validation split is used as test", source)
        test_split, dev_split = ("validation" if labelled("validation") else None), None
    if dev_split is None:
        # Carve dev from train, stratified and seeded, so train/dev/test stay disjoint and labelled.
        dev_idx, _ = stratified_partition(
            train_labels, (DEV_FRACTION_OF_TRAIN, 1 - DEV_FRACTION_OF_TRAIN), seed
        )
        train_assignment[dev_idx] = "dev"
    else:
        parts.append(converted[dev_split])
        assignments.append(np.array(["dev"] * len(converted[dev_split][0]), dtype=object))
    if test_split is not None:
        parts.append(converted[test_split])
        assignments.append(np.array(["test"] * len(converted[test_split][0]), dtype=object))

    labels = np.concatenate([p[2] for p in parts])
    names = list(label_names) if label_names else [str(i) for i in range(int(labels.max()) + 1)]
    return TextExamples(
        texts=[t for p in parts for t in p[0]],
        pairs=None if pair_column is None else [t for p in parts for t in p[1]],
        labels=labels,
        label_names=names,
        source=source,
        assigned_splits=[str(s) for a in assignments for s in a],
    )


def _as_text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
