"""The package-top verbs (`albert_tf.finetune`, `distill`, `prune`, `quantize`, `evaluate`,
`export`) on both tasks, through the README's own Python section run at a tiny size, and the
one-line errors of a model given the other task's data."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from albert_tf.errors import UserError

README = Path(__file__).resolve().parents[1] / "README.md"
# The README's sizes, and the tiny ones the test runs (each must be found: a README edit that
# drops one fails here rather than silently running at full size).
TINY = [
    ("train_limit=2000", "train_limit=64, dev_limit=16, test_limit=16"),
    ("train_limit=5000", "train_limit=64, dev_limit=16, test_limit=16"),
    ("vocab_size=8000", "vocab_size=300"),
    ('"albert-small"', '"albert-tiny"'),
    ("sequence_length=64", "sequence_length=32"),
    ("FinetuneConfig(epochs=3", "FinetuneConfig(epochs=1, batch_size=16"),
    ("DistillConfig(epochs=2)", "DistillConfig(epochs=1, batch_size=16)"),
    ('mode="dynamic-int8")', 'mode="dynamic-int8", parity=False)'),
]


def readme_python_blocks() -> list[str]:
    """The ```python blocks of the README's "Python" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Python\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def tiny(code: str) -> str:
    for full, small in TINY:
        code = code.replace(full, small)
    return code


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    """Both README blocks run in one namespace at a tiny size: `(namespace, metrics of every
    verb call)`. The verbs' results are recorded as the README calls them."""
    import keras

    import albert_tf

    blocks = readme_python_blocks()
    assert len(blocks) == 2, "the README's Python section has a classification and a tagging block"
    code = "\n".join(blocks)
    for full, _ in TINY:
        assert full in code, f"the README's Python section no longer has {full!r}"
    calls = []

    def recording(verb):
        def call(*args, **kwargs):
            result = verb(*args, **kwargs)
            calls.append((verb.__name__, args, kwargs, result))
            return result
        return call

    namespace = {}
    folder = tmp_path_factory.mktemp("readme_python")
    keras.utils.set_random_seed(0)
    previous = Path.cwd()
    verbs = {name: getattr(albert_tf, name) for name in albert_tf.VERBS}
    try:
        os.chdir(folder)
        for name, verb in verbs.items():
            setattr(albert_tf, name, recording(verb))
        exec(compile(tiny(code), str(README), "exec"), namespace)
    finally:
        os.chdir(previous)
        for name in verbs:
            delattr(albert_tf, name)  # back to the lazy module attribute
    return namespace, calls, folder


def _results(calls, verb: str):
    return [(args, result) for name, args, _, result in calls if name == verb]


@pytest.mark.slow
def test_readme_runs_every_verb_on_classification_and_tagging(readme_run):
    import keras_hub

    from albert_tf.tagging.model import TokenClassifier

    _, calls, folder = readme_run
    tasks = {}
    for verb, args, _, (_, metrics) in calls:
        first = args[0]
        task = "tagging" if isinstance(first, TokenClassifier) else "classification"
        assert isinstance(first, (TokenClassifier, keras_hub.models.TextClassifier))
        tasks.setdefault(task, []).append(verb)
        assert isinstance(metrics, dict)
    assert tasks["classification"] == ["finetune", "prune", "distill", "quantize", "evaluate",
                                       "export"]
    assert tasks["tagging"] == ["finetune", "prune", "distill", "export"]
    for (args, (model, metrics)) in _results(calls, "finetune"):
        assert model is args[0] and metrics["training"]["epochs_done"] == 1
        assert {"dev", "test"} <= set(metrics)
    (_, (_, classified)), (_, (_, tagged)) = _results(calls, "finetune")
    assert 0.0 <= classified["test"]["accuracy"] <= 1.0 and "macro_f1" in classified["test"]
    assert 0.0 <= tagged["test"]["token_accuracy"] <= 1.0
    for args, (pruned, metrics) in _results(calls, "prune"):  # a smaller model, scored
        assert pruned is not args[0] and pruned.count_params() < args[0].count_params()
        assert metrics["parameters_after"] < metrics["parameters_before"] and "test" in metrics
    for args, (student, metrics) in _results(calls, "distill"):
        assert student is args[1] and "test" in metrics
    (args, (quantized, metrics)), = _results(calls, "quantize")
    assert quantized is not args[0] and metrics["mode"] == "int8"
    assert {"test", "float_test"} <= set(metrics)
    (_, (model, metrics)), = _results(calls, "evaluate")
    assert set(metrics) == {"dev", "test"}
    (_, (tflite, report)), (_, (bundle, kit)) = _results(calls, "export")
    assert (folder / tflite).is_file() and report["size_bytes"] == (folder / tflite).stat().st_size
    assert (folder / bundle / "kit.json").is_file() and kit["task"] == "token-classification"


@pytest.mark.slow
def test_a_model_given_the_other_tasks_data_is_one_clear_error(readme_run):
    import albert_tf

    namespace, _, _ = readme_run
    classifier, tagger = namespace["model"], namespace["tagger"]
    splits, tagged = namespace["splits"], namespace["tagged"]
    for verb in (albert_tf.finetune, albert_tf.evaluate):
        with pytest.raises(UserError, match="a token classifier needs TaggedSentences .*"
                                            "Received: TextExamples in splits.train"):
            verb(tagger, splits)
        with pytest.raises(UserError, match="a text classifier needs TextExamples .*"
                                            "Received: TaggedSentences"):
            verb(classifier, tagged)
    with pytest.raises(UserError, match="teacher and student must be of one task"):
        albert_tf.distill(classifier, tagger, splits)
    with pytest.raises(UserError, match="token classifier takes a DistillConfig. "
                                        "Received: FinetuneConfig"):
        from albert_tf.train.config import FinetuneConfig

        albert_tf.distill(tagger, tagger, tagged, FinetuneConfig())
    with pytest.raises(UserError, match="format must be one of tflite, saved_model, edge"):
        albert_tf.export(tagger, "x", format="onnx")
    with pytest.raises(UserError, match="expected a keras-hub TextClassifier or an albert_tf "
                                        "TokenClassifier.*Received: str"):
        albert_tf.evaluate("runs/model", splits)
    from albert_tf.tagging.examples import TaggedSentences

    two_tags = TaggedSentences([["a", "b"]], [[0, 1]], ["X", "Y"], "demo")
    with pytest.raises(UserError, match="has 12 classes but splits.train has 2"):
        albert_tf.evaluate(tagger, (two_tags, None, None))


@pytest.mark.slow
def test_tagging_verbs_beyond_the_readme(readme_run, tmp_path):
    """quantize, evaluate and the tflite export on the README's tagger."""
    import albert_tf

    namespace, _, _ = readme_run
    tagger, tagged = namespace["tagger"], namespace["tagged"]
    quantized, metrics = albert_tf.quantize(tagger, tagged)
    assert quantized is not tagger and {"test", "float_test"} <= set(metrics)
    _, metrics = albert_tf.evaluate(quantized, tagged, split="test")
    assert set(metrics) == {"test"} and 0 <= metrics["test"]["token_accuracy"] <= 1
    path, report = albert_tf.export(tagger, tmp_path / "tagger.tflite", tagged, format="tflite")
    assert path.is_file() and report["parity"]["same_tag_fraction"] == 1.0
    assert list(report["classifier"]["label_names"]) == list(tagged.train.tag_names)


def test_import_albert_tf_and_cli_help_start_no_tensorflow():
    code = ("import sys, albert_tf\n"
            "assert callable(albert_tf.__getattr__('finetune'))\n"
            "assert sorted(albert_tf.VERBS) == sorted(set(dir(albert_tf)) & set(albert_tf.VERBS))\n"
            "from albert_tf.cli import main\n"
            "sys.argv = ['albert-tf', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('tensorflow', 'keras', 'keras_hub') if m in sys.modules)\n"
            "assert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=README.parent)
    assert done.returncode == 0, done.stderr[-2000:]


def test_no_module_shadows_a_verb():
    """`import albert_tf.<verb>` would rebind the verb: no such module (or package) exists."""
    import albert_tf

    package = Path(albert_tf.__file__).parent
    for verb in albert_tf.VERBS:
        assert not (package / f"{verb}.py").exists() and not (package / verb).exists(), verb
