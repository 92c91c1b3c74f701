"""Bad input: one clear line on stderr, exit code 2, never a traceback."""

import os
import subprocess
import sys

import pytest

from albert_tf.cli import main


def albert_tf(*args):
    """The real command in a fresh process (what a user sees, traceback or not)."""
    argv = [sys.executable, "-m", "albert_tf.cli", *args]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(argv, capture_output=True, env=env, timeout=300)


def assert_one_line_error(returncode, stderr, *fragments):
    assert returncode == 2, stderr
    assert "Traceback" not in stderr, stderr
    lines = [l for l in stderr.splitlines() if l.startswith("albert-tf")]
    assert len(lines) == 1, stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def run_in_process(args, capsys):
    """`main(args)` in this process (fast: TensorFlow loads once for the whole module)."""
    try:
        returncode = main(args)
    except SystemExit as exit_:  # argparse exits on bad arguments
        returncode = exit_.code
    return returncode, capsys.readouterr().err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    (folder / "ok.csv").write_text("text,label\n" + "".join(
        f"good film {i},pos\nbad film {i},neg\n" for i in range(15)))
    (folder / "three_rows.csv").write_text("text,label\ngood film,pos\nbad film,neg\nmeh,neg\n")
    (folder / "latin1.csv").write_bytes("text,label\ncaf\xe9 cr\xe8me,pos\n".encode("latin-1"))
    (folder / "empty_text.csv").write_text("text,label\ngood film,pos\n,neg\n")
    (folder / "ids.jsonl").write_text('{"text": "good", "label": 0}\n{"text": "bad", "label": 7}\n')
    (folder / "blank.txt").write_text("\n \n\n")
    (folder / "one_sentence_docs.txt").write_text("A film.\n\nA book.\n\nA song.\n")
    (folder / "short.txt").write_text("A film. A book.\n\nA song. A play.\n\nA poem. A tune.\n")
    return folder


@pytest.mark.parametrize("args, fragments", [
    (["finetune", "--epochs", "0"], ["--epochs", ">= 1"]),
    (["finetune", "--learning-rate", "fast"], ["--learning-rate", "'fast'"]),
    (["finetune", "--precision", "float8"], ["--precision", "invalid choice"]),
    (["frobnicate"], ["invalid choice"]),
    (["finetune", "--data", "imdb-reviews"], ["imdb-reviews"]),
    (["finetune", "--data", "missing.csv"], ["missing.csv"]),
    (["finetune", "--data", "{files}/ok.csv", "--text-column", "review"], ["review", "text"]),
    (["finetune", "--data", "{files}/latin1.csv"], ["UTF-8"]),
    (["finetune", "--data", "{files}/empty_text.csv"], ["empty"]),
    (["finetune", "--data", "{files}/three_rows.csv", "--model", "albert-tiny"],
     ["too few examples to split", "empty"]),
    (["data", "show", "rotten-tomatoes", "--seed", "-5"], ["--seed", ">= 0"]),
    (["finetune", "--learning-rate", "inf"], ["--learning-rate", "finite"]),
    (["distill", "--temperature", "inf"],
     ["--temperature", "finite"]),
    (["tokenizer", "train", "--data", "{files}/ok.csv", "--output", "{files}/t.model"],
     ["vocab"]),
    (["predict", "--model-dir", "{files}", "--file", "{files}/ok.csv", "x"], ["not both"]),
    (["predict", "--model-dir", "{files}", "a fine film"], ["not a saved classifier"]),
    (["evaluate", "{files}/nowhere"], ["not a saved classifier"]),
    (["finetune", "--model", "albert-huge", "--data", "{files}/ok.csv"], ["albert-huge"]),
    (["pretrain", "--corpus", "{files}/blank.txt", "--run-dir", "{files}/pt"], ["no text"]),
    (["pretrain", "--corpus", "{files}/one_sentence_docs.txt", "--run-dir", "{files}/pt"],
     ["two or more segments"]),
    (["pretrain", "--corpus", "{files}/short.txt", "--run-dir", "{files}/pt"],
     ["8000-piece", "lower --vocab-size"]),
    (["pretrain", "--corpus", "wikipedia", "--run-dir", "{files}/pt"], ["wikipedia"]),
    (["pretrain", "--corpus", "{files}/short.txt", "--steps", "0", "--run-dir", "x"],
     ["--steps", ">= 1"]),
])
def test_bad_input_is_one_line_and_exit_2(files, args, fragments, capsys):
    args = [a.replace("{files}", str(files)) for a in args]
    assert_one_line_error(*run_in_process(args, capsys), *fragments)


def test_in_a_real_process_bad_input_has_no_traceback(files):
    result = albert_tf("finetune", "--data", str(files / "latin1.csv"))
    assert_one_line_error(result.returncode, result.stderr.decode(), "UTF-8")


@pytest.mark.slow  # a child process imports TensorFlow
def test_an_error_after_tensorflow_starts_is_the_only_line_on_stderr(tmp_path):
    result = albert_tf("evaluate", str(tmp_path))  # imports TensorFlow, then refuses the folder
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert stderr.splitlines() == [stderr.strip()] and stderr.startswith(
        "albert-tf evaluate: error: "), stderr  # no `I0000 ... oneDNN` / `E0000 ... cuInit`
    verbose = albert_tf("--verbose", "evaluate", str(tmp_path))
    assert "oneDNN" in verbose.stderr.decode()  # --verbose brings TensorFlow's lines back


@pytest.mark.slow  # a child process loads TensorFlow and a model
def test_argument_bytes_that_are_not_utf8(files):
    text = b"caf\xe9".decode("utf-8", "surrogateescape")  # what Python makes of such argv
    result = albert_tf("predict", "--model-dir", str(files), text)
    assert_one_line_error(result.returncode, result.stderr.decode(), "UTF-8")


@pytest.mark.parametrize("command", [["data"], ["tokenizer", "train"], ["finetune"],
                                     ["evaluate"], ["predict"], ["demo"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0 and "usage: albert-tf" in capsys.readouterr().out


def test_export_and_quantize_refuse_what_the_user_has_before_loading_anything(tmp_path, capsys):
    """Checked before the model loads (so `model_dir` need not even exist): an existing
    folder or file is kept, with nothing written beside it."""
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    existing = tmp_path / "model.tflite"
    existing.write_bytes(b"my earlier export")
    cases = [
        (["export", "no-model", "--output", str(folder)], ["is a folder", "model.tflite"]),
        (["export", "no-model", "--output", str(existing)], ["already exists", "--overwrite"]),
        (["export", "no-model", "--output", str(existing / "x.tflite")], ["is a file"]),
        (["quantize", "no-model", "--output-dir", str(folder)],
         ["not empty", "--overwrite"]),
    ]
    for args, fragments in cases:
        assert_one_line_error(*run_in_process(args, capsys), *fragments)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["existing", "keep.txt", "model.tflite"]
    assert existing.read_bytes() == b"my earlier export"
    # With --overwrite the file check passes, and the next error is the missing model.
    returncode, stderr = run_in_process(
        ["export", "no-model", "--output", str(existing), "--overwrite"], capsys)
    assert returncode == 2 and "no-model" in stderr and "already exists" not in stderr


def test_atomic_write_onto_a_folder_leaves_no_temporary_file(tmp_path):
    from albert_tf.deploy.tflite_export import write_atomic
    from albert_tf.errors import UserError

    (tmp_path / "out.tflite").mkdir()
    with pytest.raises(UserError, match="is a folder"):
        write_atomic(tmp_path / "out.tflite", b"x" * 1000)
    assert [p.name for p in tmp_path.iterdir()] == ["out.tflite"]


def test_a_tagger_given_to_a_classification_command_and_the_reverse(tmp_path, capsys):
    """Told apart by task.json's class before anything loads."""
    import json

    tagger, classifier = tmp_path / "tagger", tmp_path / "classifier"
    for folder, name in ((tagger, "albert_tf>AlbertTokenClassifier"),
                         (classifier, "keras_hub>AlbertTextClassifier")):
        folder.mkdir()
        (folder / "task.json").write_text(json.dumps({"registered_name": name, "config": {}}))
    for args in (["predict", "--model-dir", str(tagger), "a text"],
                 ["evaluate", str(tagger)]):
        assert_one_line_error(*run_in_process(args, capsys), "is a token classifier",
                              "albert-tf tag")
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("The dog barked .\n")
    assert_one_line_error(*run_in_process(["tag", "predict", str(classifier), "--input",
                                           str(sentences)], capsys),
                          "is a text classifier, not a tagger")
