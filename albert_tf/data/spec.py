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
        source: a named source (`rotten-tomatoes`, `movie-snippets`, `a+b`), a CSV / TSV /
            JSONL path, or `tfds:NAME`.
        text_column, pair_column, label_column: columns of a file source or features of a
            tfds source (None: the reader's default).
        label_names: a file's label names in id order (e.g. a trained model's), so its string
            labels get the same ids; integer labels must be below `len(label_names)`.
        seed: split and subset seed.
        train_limit, dev_limit, test_limit: stratified subsets for CPU budgets (None: all).
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
