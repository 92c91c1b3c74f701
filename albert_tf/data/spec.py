"""`DataSpec` says which classification examples to use; `load_splits` loads them as `Splits`.

Kept free of TensorFlow, so the CLI and the recipe schema read it while parsing arguments.
"""

from dataclasses import dataclass

from albert_tf.data.splits import Splits
from albert_tf.errors import UserError


@dataclass
class DataSpec:
    """Which examples to use.

    Args:
        source: named source (`rotten-tomatoes`, `movie-snippets`, `a+b` to combine), a
            .csv / .tsv / .jsonl file, or `tfds:NAME`.
        text_column: text column of a file (None: `text`) or feature of a tfds source.
        pair_column: second text column of a file or feature of a tfds source, for sentence
            pairs (None: single texts).
        label_column: label column of a file (None: `label`) or feature of a tfds source.
        label_names: a file's label names in id order (e.g. a trained model's), so its string
            labels get the same ids; integer labels must be below `len(label_names)`.
        seed: split and subset seed.
        train_limit: use a stratified subset of this many training examples, for CPU budgets
            (None: all).
        dev_limit: use a stratified subset of this many dev examples (None: all).
        test_limit: use a stratified subset of this many test examples (None: all).
    """

    source: str = "rotten-tomatoes"
    text_column: str | None = None
    pair_column: str | None = None
    label_column: str | None = None
    label_names: list[str] | None = None
    seed: int = 0
    train_limit: int | None = None
    dev_limit: int | None = None
    test_limit: int | None = None


def load_splits(spec: DataSpec) -> Splits:
    """The train / dev / test examples of `spec`, subsetted to its limits.

    Args:
        spec: `DataSpec`.

    Returns:
        `Splits` of `TextExamples` (a named tuple: `train, dev, test = load_splits(spec)`
        works too).
    """
    from albert_tf.data import load_source, make_splits, subset

    options = dict(text_column=spec.text_column, pair_column=spec.pair_column,
                   label_column=spec.label_column, label_names=spec.label_names)
    kwargs = {k: v for k, v in options.items() if v is not None}
    splits = make_splits(load_source(spec.source, seed=spec.seed, **kwargs), seed=spec.seed)
    empty = [name for name, size in splits.sizes().items() if size == 0]
    if empty:
        raise UserError(f"{spec.source}: too few examples to split: {splits.sizes()} leaves "
                        f"{' and '.join(empty)} empty; fine-tuning needs examples in all three "
                        "(dev and test get about 10 % each: give at least 20)")
    limits = {"train": spec.train_limit, "dev": spec.dev_limit, "test": spec.test_limit}
    parts = {}
    for name, limit in limits.items():
        part = getattr(splits, name)
        if limit is not None:
            if limit < 1:
                raise UserError(f"{name}_limit must be >= 1. Received: {limit}")
            if limit < len(part.texts):
                part = subset(part, limit, seed=spec.seed)
        parts[name] = part
    return Splits(parts["train"], parts["dev"], parts["test"])


def load_all(spec: DataSpec):
    """Every labelled example of `spec`'s source, unsplit (`albert-tf evaluate --split all`)."""
    from albert_tf.data import load_source

    options = dict(text_column=spec.text_column, pair_column=spec.pair_column,
                   label_column=spec.label_column, label_names=spec.label_names)
    return load_source(spec.source, seed=spec.seed,
                       **{k: v for k, v in options.items() if v is not None})
