"""One definition of every default: a CLI flag that sets a configuration field defaults to that
field's dataclass default, so `albert-tf distill` and a recipe's `distill:` section mean the
same thing when a value is left out."""

import dataclasses

import pytest

from albert_tf.cli import build_parser


def subcommand(parser, *names):
    for name in names:
        parser = parser._subparsers._group_actions[0].choices[name]
    return parser


def dataclass_defaults(cls) -> dict:
    defaults = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            defaults[field.name] = field.default_factory()
    return defaults


def configs():
    from albert_tf.compress.distill.config import DistillConfig
    from albert_tf.compress.prune import StructuredPruneConfig, UnstructuredPruneConfig
    from albert_tf.pretrain.job import PretrainConfig, PretrainJob
    from albert_tf.tagging.distill import TokenDistillConfig
    from albert_tf.train.config import FinetuneConfig

    return [(("finetune",), FinetuneConfig), (("distill",), DistillConfig),
            (("prune",), StructuredPruneConfig), (("prune",), UnstructuredPruneConfig),
            (("tag", "distill"), TokenDistillConfig), (("tag", "finetune"), FinetuneConfig),
            (("pretrain",), PretrainConfig), (("pretrain",), PretrainJob)]


# Flags whose CLI default differs in form only: a string the command parses into the field's
# type, or a flag whose absence chooses another mode (no --sparsity: structured pruning).
PARSED = {"layer_map": ("", ()), "exclude": (None, ()), "sparsity": (None, 0.5),
          "corpus": (None, [])}  # --corpus is required


@pytest.mark.parametrize("command, config", configs(), ids=lambda v: getattr(v, "__name__", v))
def test_cli_defaults_are_the_dataclass_defaults(command, config):
    parser = subcommand(build_parser(), *command)
    defaults = dataclass_defaults(config)
    shared = [a for a in parser._actions if a.dest in defaults]
    assert shared, f"{' '.join(command)} sets no {config.__name__} field"
    for action in shared:
        expected = defaults[action.dest]
        if action.dest in PARSED and (action.default, expected) == PARSED[action.dest]:
            continue
        assert action.default == expected, (
            f"albert-tf {' '.join(command)} --{action.dest.replace('_', '-')} defaults to "
            f"{action.default!r}, {config.__name__}.{action.dest} to {expected!r}")
