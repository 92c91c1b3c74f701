"""One definition of every setting: the flags that set a configuration field are derived from
its dataclass (`albert_tf.cli.config_flags`), so `albert-tf distill` and a recipe's `distill:`
section mean the same thing, defaults, help and limits included."""

import dataclasses
import subprocess
import sys
from typing import Literal

import pytest

from albert_tf.cli import build_parser, main
from albert_tf.cli.config_flags import add_config_flags, config_from_args, field_help
from albert_tf.cli.tag import TAG_DISTILL_SKIPPED
from albert_tf.compress.distill.config import DistillConfig
from albert_tf.compress.prune.config import (
    PruneConfig,
    StructuredPruneConfig,
    UnstructuredPruneConfig,
)
from albert_tf.data.spec import DataSpec
from albert_tf.pretrain.config import PretrainConfig, PretrainJob
from albert_tf.tagging.config import (
    TagFinetuneJob,
    TaggingDataSpec,
    TokenDistillConfig,
)
from albert_tf.train.config import FinetuneConfig
from albert_tf.train.job_config import FinetuneJob


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


# (command, configuration, fields the command sets otherwise: `seed` from the data arguments,
# nested configurations from the flags of theirs, tagger pruning ranks by magnitude only, a
# model's label names from its folder).
DATA_COMMANDS = [("finetune",), ("distill",), ("prune",), ("evaluate",), ("export",),
                 ("quantize",), ("bench",), ("tokenizer", "train")]
TAG_DATA_COMMANDS = [("tag", "finetune"), ("tag", "evaluate"), ("tag", "prune"),
                     ("tag", "distill")]
CONFIGS = [
    *[(command, DataSpec, {"label_names"}) for command in DATA_COMMANDS],
    *[(command, TaggingDataSpec, set()) for command in TAG_DATA_COMMANDS],
    # `data show` takes the source as its positional `name` and has no subset limits.
    (("data", "show"), DataSpec, {"source", "label_names", "train_limit", "dev_limit",
                                  "test_limit"}),
    (("finetune",), FinetuneJob, {"data", "train"}),
    (("tag", "finetune"), TagFinetuneJob, {"data", "train"}),
    (("finetune",), FinetuneConfig, {"seed"}),
    (("distill",), DistillConfig, {"seed"}),
    (("prune",), StructuredPruneConfig, set()),
    (("prune",), UnstructuredPruneConfig, set()),
    (("prune",), PruneConfig, {"structured", "unstructured"}),
    (("pretrain",), PretrainConfig, set()),
    (("pretrain",), PretrainJob, {"train"}),
    (("tag", "finetune"), FinetuneConfig, {"seed"}),
    (("tag", "distill"), TokenDistillConfig, TAG_DISTILL_SKIPPED),
    (("tag", "prune"), StructuredPruneConfig, set()),
    (("tag", "prune"), UnstructuredPruneConfig, set()),
    (("tag", "prune"), PruneConfig, {"structured", "unstructured"}),
]
IDS = [f"{' '.join(c)}-{cls.__name__}" for c, cls, _ in CONFIGS]

# A default that differs on purpose: no --sparsity means no unstructured pruning.
CLI_DEFAULTS = {"sparsity": None}


@pytest.fixture(scope="module")
def parser():
    return build_parser()


@pytest.mark.parametrize("command, config, elsewhere", CONFIGS, ids=IDS)
def test_every_field_has_a_flag_with_the_dataclass_default(parser, command, config, elsewhere):
    actions = {a.dest: a for a in subcommand(parser, *command)._actions}
    defaults = dataclass_defaults(config)
    missing = set(defaults) - elsewhere - set(actions)
    assert not missing, f"albert-tf {' '.join(command)}: no flag for {sorted(missing)}"
    for name in set(defaults) & set(actions):  # `seed` too, where the data arguments set it
        expected = CLI_DEFAULTS.get(name, defaults[name])
        assert actions[name].default == expected, (
            f"albert-tf {' '.join(command)} {actions[name].option_strings[0]} defaults to "
            f"{actions[name].default!r}, {config.__name__}.{name} to {expected!r}")


@pytest.mark.parametrize("command, config, elsewhere", CONFIGS, ids=IDS)
def test_help_is_the_docstring_entry(parser, command, config, elsewhere):
    actions = {a.dest: a for a in subcommand(parser, *command)._actions}
    docs = field_help(config)
    for name in set(dataclass_defaults(config)) - elsewhere:
        if name not in docs or name in ("corpus", "sparsity"):  # commands word these two
            continue
        words = docs[name].replace("`", "").rstrip(".").split()[:6]
        assert " ".join(words) in " ".join(actions[name].help.split()), name


def test_field_help_reads_google_style_args():
    @dataclasses.dataclass
    class Settings:
        """Settings.

        Args:
            first: one line.
            second, third: shared by two fields,
                over two lines.

        Returns:
            nothing to read here.
        """

        first: int = 1
        second: int = 2
        third: int = 3

    assert field_help(Settings) == {"first": "one line.",
                                    "second": "shared by two fields, over two lines.",
                                    "third": "shared by two fields, over two lines."}


@dataclasses.dataclass
class Throwaway:
    """A configuration no command knows.

    Args:
        steps: how many steps.
        rate: how fast.
        enabled: whether it runs.
        mode: which way.
        names: repeatable names.
        shape: rows and columns.
        limit: an optional bound.
    """

    steps: int = 3
    rate: float = 0.5
    enabled: bool = True
    mode: Literal["fast", "slow"] = "fast"
    names: tuple[str, ...] = ("a",)
    shape: tuple[int, int] = (1, 4)
    limit: int | None = None

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1. Received: steps={self.steps}")


def throwaway_parser(**kwargs):
    import argparse

    parser = argparse.ArgumentParser(prog="x", exit_on_error=False)
    add_config_flags(parser, Throwaway, **kwargs)
    return parser


def test_a_new_field_gets_a_flag_without_touching_the_cli():
    parser = throwaway_parser()
    assert config_from_args(Throwaway, parser.parse_args([])) == Throwaway()
    args = parser.parse_args(["--steps", "5", "--rate", "0.25", "--no-enabled", "--mode", "slow",
                              "--names", "b", "--names", "c", "--shape", "2x2",
                              "--limit", "7"])
    assert config_from_args(Throwaway, args) == Throwaway(
        steps=5, rate=0.25, enabled=False, mode="slow", names=("b", "c"), shape=(2, 2),
        limit=7)
    assert "how fast (default: 0.5)" in parser.format_help()


def test_rename_skip_and_values():
    parser = throwaway_parser(rename={"steps": ("epochs", "steps")}, skip={"limit"})
    args = parser.parse_args(["--epochs", "4"])
    assert not hasattr(args, "limit")
    assert config_from_args(Throwaway, args, rate=0.75) == Throwaway(steps=4, rate=0.75)


@pytest.mark.parametrize("args, fragments", [
    (["finetune", "--epochs", "0"], ["--epochs", "epochs must be", ">= 1"]),
    (["finetune", "--learning-rate", "nan"], ["--learning-rate", "finite"]),
    (["finetune", "--warmup-fraction", "1"], ["--warmup-fraction", "[0, 1)"]),
    (["distill", "--teacher", "t", "--alpha", "1.5"], ["--alpha", "[0, 1]"]),
    (["distill", "--teacher", "t", "--layer-map", "1-2"], ["--layer-map", "student:teacher"]),
    (["distill", "--teacher", "t", "--augment", "web"], ["--augment", "invalid choice"]),
    (["prune", "m", "o", "--ffn-fraction", "1.5"], ["--ffn-fraction", "[0, 1)"]),
    (["prune", "m", "o", "--block-size", "0x4"], ["--block-size", ">= 1"]),
    (["prune", "m", "o", "--m-by-n", "4:2"], ["--m-by-n", "0 < m < n"]),
    (["prune", "m", "o", "--fine-tune-steps", "-1"], ["--fine-tune-steps", ">= 0"]),
    (["pretrain", "--corpus", "c", "--run-dir", "r", "--mask-rate", "0"], ["--mask-rate"]),
    (["tag", "distill", "--teacher", "t", "--student", "s", "--output", "o",
      "--temperature", "0"], ["--temperature"]),
    (["tag", "prune", "m", "--output", "o", "--learning-rate", "-1"], ["--learning-rate"]),
])
def test_an_invalid_value_is_one_line_naming_the_flag(args, fragments, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


def test_help_does_not_start_tensorflow():
    code = ("import sys\nfrom albert_tf.cli import main\ntry:\n    main(['finetune', '--help'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('tensorflow', 'keras') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--learning-rate" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_no_flags_make_the_default_jobs(parser):
    from albert_tf.cli.finetune import job_from_args
    from albert_tf.cli.tag import _data_spec

    assert job_from_args(parser.parse_args(["finetune"])) == FinetuneJob()
    assert _data_spec(parser.parse_args(["tag", "finetune"])) == TaggingDataSpec()


def test_job_and_data_flags_set_their_fields(parser):
    from albert_tf.cli.common import data_spec
    from albert_tf.cli.finetune import job_from_args
    from albert_tf.cli.tag import _data_spec

    job = job_from_args(parser.parse_args([
        "finetune", "--data", "reviews.csv", "--text-column", "body", "--seed", "3",
        "--train-limit", "50", "--model", "albert-tiny", "--vocab-size", "500",
        "--sequence-length", "64", "--precision", "mixed_bfloat16", "--strategy", "mirrored"]))
    assert job == FinetuneJob(
        data=DataSpec(source="reviews.csv", text_column="body", seed=3, train_limit=50),
        model="albert-tiny", vocab_size=500, sequence_length=64, train=FinetuneConfig(seed=3),
        precision="mixed_bfloat16", strategy="mirrored")
    args = parser.parse_args(["evaluate", "m", "--data", "a.tsv"])
    assert data_spec(args, label_names=("neg", "pos")).label_names == ["neg", "pos"]
    assert data_spec(parser.parse_args(["evaluate", "m"]), ("neg", "pos")).label_names is None
    spec = _data_spec(parser.parse_args([
        "tag", "evaluate", "m", "--data", "ner.conll", "--dev-file", "dev.conll",
        "--word-column", "1", "--tag-column", "3", "--separator", "\t", "--test-limit", "9"]))
    assert spec == TaggingDataSpec(source="ner.conll", dev_file="dev.conll", word_column=1,
                                   tag_column=3, separator="\t", test_limit=9)


def test_job_dataclasses_keep_their_old_homes():
    from albert_tf.tagging.config import TagFinetuneJob as tag_job
    from albert_tf.tagging.config import TaggingDataSpec as tag_spec
    from albert_tf.train.job import FinetuneJob as job

    assert (job, tag_job, tag_spec) == (FinetuneJob, TagFinetuneJob, TaggingDataSpec)
