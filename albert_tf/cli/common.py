"""Argument types and argument groups shared by several sub-commands (flags that set a
configuration dataclass's fields are derived from it: `albert_tf.cli.config_flags`)."""

import argparse


def _number_type(parse, is_allowed, allowed: str):
    """An argparse `type=` that parses with `parse` and accepts values `is_allowed`; the
    message says what was given and what is allowed."""

    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        if not is_allowed(value):
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {value}")
        return value

    return convert


positive_int = _number_type(int, lambda v: v >= 1, "a whole number >= 1")
non_negative_int = _number_type(int, lambda v: v >= 0, "a whole number >= 0")
fraction = _number_type(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


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
    from albert_tf.data.spec import DataSpec

    is_file = args.data.lower().endswith((".csv", ".tsv", ".jsonl"))
    return DataSpec(source=args.data, text_column=args.text_column, pair_column=args.pair_column,
                    label_column=args.label_column,
                    label_names=list(label_names) if label_names and is_file else None,
                    seed=args.seed, train_limit=args.train_limit, dev_limit=args.dev_limit,
                    test_limit=args.test_limit)
