"""Argument types and argument groups shared by several sub-commands."""

import argparse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value}")
    return value


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data and its column / split / subset options."""
    group = parser.add_argument_group("data")
    group.add_argument("--data", default="rotten-tomatoes",
                       help="named source (rotten-tomatoes, movie-snippets, a+b to combine), "
                            "a .csv/.tsv/.jsonl file, or tfds:NAME (default: rotten-tomatoes)")
    group.add_argument("--text-column", default=None,
                       help="text column of a file (default: text) or tfds feature")
    group.add_argument("--pair-column", default=None,
                       help="second text column of a file or tfds source (sentence pairs)")
    group.add_argument("--label-column", default=None,
                       help="label column of a file (default: label) or tfds feature")
    group.add_argument("--seed", type=non_negative_int, default=0, help="split / subset seed")
    group.add_argument("--train-limit", type=positive_int, default=None,
                       help="use a stratified subset of this many training examples")
    group.add_argument("--dev-limit", type=positive_int, default=None,
                       help="use a stratified subset of this many dev examples")
    group.add_argument("--test-limit", type=positive_int, default=None,
                       help="use a stratified subset of this many test examples")


def data_spec(args, label_names=None):
    """The `DataSpec` the data arguments describe (`label_names`: a model's, for files)."""
    from albert_tf.train.job import DataSpec

    is_file = args.data.lower().endswith((".csv", ".tsv", ".jsonl"))
    return DataSpec(source=args.data, text_column=args.text_column, pair_column=args.pair_column,
                    label_column=args.label_column,
                    label_names=list(label_names) if label_names and is_file else None,
                    seed=args.seed, train_limit=args.train_limit, dev_limit=args.dev_limit,
                    test_limit=args.test_limit)
