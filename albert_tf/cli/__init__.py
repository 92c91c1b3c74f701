"""`albert-tf` command line: parses arguments and calls the library, nothing else.

Each sub-command lives in its own module under `albert_tf/cli/` and exposes
`register(subparsers)`, which adds its parser and sets `func` (called with the parsed args,
returns an exit code). Heavy imports (TensorFlow) happen inside `func`, so `--help` is fast.
"""

import argparse
import importlib
import logging
import os
import sys

from albert_tf.cli.quiet_tensorflow import quiet_tensorflow_start_up
from albert_tf.errors import ParityError, UserError

# One entry per sub-command module, in the order `--help` lists them.
COMMAND_MODULES = [
    "albert_tf.cli.data",
    "albert_tf.cli.tokenizer",
    "albert_tf.cli.pretrain",
    "albert_tf.cli.finetune",
    "albert_tf.cli.evaluate",
    "albert_tf.cli.predict",
    "albert_tf.cli.run",
    "albert_tf.cli.demo",
    "albert_tf.cli.distill",
    "albert_tf.cli.prune",
    "albert_tf.cli.quantize",
    "albert_tf.cli.export",
    "albert_tf.cli.bench",
    "albert_tf.cli.report",
    "albert_tf.cli.tag",
]


class _Parser(argparse.ArgumentParser):
    """argparse, but bad arguments exit 2 with one line (no usage dump)."""

    def error(self, message):
        self.exit(2, f"albert-tf: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="albert-tf", description="Fine-tune, distill, prune, quantize and "
                     "export ALBERT text models (TensorFlow / Keras 3).")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, and TensorFlow's own C++ log lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # TensorFlow's C++ lines (`E0000 ... cuInit` on a machine without a GPU, oneDNN notices)
    # would come before albert_tf's own one-line errors. The level is read when TensorFlow
    # is imported, which happens only inside the sub-command; a value the user set wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if args.verbose else "3")
    if not args.verbose:
        quiet_tensorflow_start_up()  # the lines the level does not reach
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"albert-tf {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ParityError as exc:  # a check failed, not the input: exit 1
        print(f"albert-tf {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("albert-tf: interrupted", file=sys.stderr)
        return 130


