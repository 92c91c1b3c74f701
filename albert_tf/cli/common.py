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


# Flag types that keep the CLI's messages ("expected a whole number >= 1, got 0").
DATA_FLAG_OPTIONS = {"source": {"metavar": "DATA"}, "seed": {"type": non_negative_int},
                     **{f"{split}_limit": {"type": positive_int}
                        for split in ("train", "dev", "test")}}


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data and its column / split / subset options, derived from `DataSpec` (`source` is
    `--data`; a model's `label_names` are not a flag)."""
    from albert_tf.cli.config_flags import add_config_flags
    from albert_tf.data.spec import DataSpec

    add_config_flags(parser.add_argument_group("data"), DataSpec, rename={"source": "data"},
                     skip={"label_names"}, options=DATA_FLAG_OPTIONS)


def data_spec(args, label_names=None):
    """The `DataSpec` the data arguments describe (`label_names`: a model's, for files)."""
    from albert_tf.cli.config_flags import config_from_args
    from albert_tf.data.spec import DataSpec

    is_file = args.source.lower().endswith((".csv", ".tsv", ".jsonl"))
    return config_from_args(DataSpec, args,
                            label_names=list(label_names) if label_names and is_file else None)
