"""Local CSV / TSV / JSONL readers through `load_source`, and their errors."""

import json

import numpy as np
import pytest

from albert_tf.data import load_label_map, load_source, read_text_file
from albert_tf.errors import UserError


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_csv_with_string_labels_sorted_and_saved(tmp_path):
    path = _write(
        tmp_path / "reviews.csv",
        'review,verdict\n"Great, truly great",pos\nDull,neg\n"Two\nlines",pos\nMeh,neutral\n',
    )
    examples = load_source(str(path), text_column="review", label_column="verdict")
    assert examples.texts == ["Great, truly great", "Dull", "Two\nlines", "Meh"]
    assert examples.label_names == ["neg", "neutral", "pos"]  # sorted, deterministic
    assert examples.labels.tolist() == [2, 0, 2, 1]
    assert examples.labels.dtype == np.int32 and examples.pairs is None
    saved = examples.save_label_map(tmp_path / "labels.json")
    assert json.loads(saved.read_text())["label_to_id"] == {"neg": 0, "neutral": 1, "pos": 2}
    # A second file reuses the mapping, even if it lacks a label.
    other = _write(tmp_path / "more.csv", "review,verdict\nSuperb,pos\n")
    again = load_source(
        other, text_column="review", label_column="verdict", label_names=load_label_map(saved)
    )
    assert again.labels.tolist() == [2] and again.label_names == ["neg", "neutral", "pos"]


def test_tsv_pairs_and_integer_labels(tmp_path):
    path = _write(tmp_path / "pairs.tsv", 'q\tanswer\tlabel\nIs it "good"?\tYes\t1\nIs it bad?\tNo\t0\n')
    examples = load_source(path, text_column="q", pair_column="answer")
    assert examples.texts == ['Is it "good"?', "Is it bad?"]  # quotes are text in TSV
    assert examples.pairs == ["Yes", "No"]
    assert examples.labels.tolist() == [1, 0] and examples.label_names == ["0", "1"]


def test_a_stray_large_integer_label_is_refused_not_turned_into_a_huge_label_table(tmp_path):
    path = _write(tmp_path / "ids.csv", "text,label\ngood,1\nbad,0\nodd,99999999\nok,1\n")
    with pytest.raises(UserError, match="ids.csv line 4: label 99999999 is out of range: "
                                        "integer labels are class ids 0..n-1, and this file "
                                        "has 3 distinct ones"):
        load_source(path)


def test_integer_ids_mixed_with_names_are_refused_not_made_four_classes(tmp_path):
    path = _write(tmp_path / "mixed.csv", "text,label\ngood,1\nbad,0\nfine,positive\n"
                                          "awful,negative\n")
    with pytest.raises(UserError, match=r"mix integer ids \(0, 1\) and names \(negative, "
                                        r"positive\)"):
        load_source(path)
    # With label names the integers are ids of those names: one mapping, no error.
    named = load_source(path, label_names=["negative", "positive"])
    assert named.labels.tolist() == [1, 0, 1, 0]


def test_jsonl_with_bom_and_unicode(tmp_path):
    rows = [
        {"text": "Très bien\u2028ok", "label": 1},
        {"text": "naïve", "label": 0},
        {"text": "x", "label": 2},
    ]
    path = _write(
        tmp_path / "data.jsonl",
        "\ufeff" + "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n",
    )
    examples = load_source(path, num_classes=3)
    assert examples.texts == ["Très bien\u2028ok", "naïve", "x"]
    assert examples.labels.tolist() == [1, 0, 2] and examples.label_names == ["0", "1", "2"]


def test_duplicates_removed_on_load_but_kept_by_reader(tmp_path):
    path = _write(tmp_path / "d.csv", "text,label\nGood film,1\ngood   FILM,1\nBad,0\n")
    assert len(read_text_file(path)) == 3
    assert load_source(path).texts == ["Good film", "Bad"]


def test_unlabelled_file_through_reader(tmp_path):
    path = _write(tmp_path / "u.jsonl", '{"text": "a"}\n{"text": "b"}\n')
    examples = read_text_file(path, label_column=None)
    assert examples.labels.tolist() == [-1, -1] and examples.label_names == [] and not examples.is_labelled


def test_file_name_with_plus_is_one_file(tmp_path):
    path = _write(tmp_path / "a+b.csv", "text,label\nx,0\n")
    assert load_source(path).texts == ["x"]


def test_combining_two_files(tmp_path):
    a = _write(tmp_path / "a.csv", "text,label\nSame text,pos\nOnly A,neg\n")
    b = _write(
        tmp_path / "b.jsonl", '{"text": "same  TEXT", "label": "pos"}\n{"text": "Only B", "label": "neg"}\n'
    )
    combined = load_source(f"{a}+{b}")
    assert combined.texts == ["Same text", "Only A", "Only B"]


@pytest.mark.parametrize(
    "name, content, kwargs, message",
    [
        ("missing.csv", None, {}, "does not exist"),
        ("data.txt", "text\n", {}, "must be one of .csv, .tsv, .jsonl"),
        ("cols.csv", "review,label\nx,1\n", {}, "column 'text' is not in the header; columns are: review, label"),
        ("cols.jsonl", '{"review": "x", "label": 1}\n', {}, "line 1: column 'text' is missing; columns are: review, label"),
        ("pair.csv", "text,label\nx,1\n", {"pair_column": "hypothesis"}, "column 'hypothesis'"),
        ("empty.csv", "text,label\nok,1\n  ,0\n", {}, "line 3: column 'text' is empty"),
        ("nolabel.csv", "text,label\nok,1\nfine,\n", {}, "line 3: column 'label' \\(the label\\) is empty"),
        ("latin.csv", "text,label\nok,1\ncaf\xe9,0\n".encode("latin-1"), {}, "line 3, column 4: byte 0xe9 is not UTF-8"),
        ("range.csv", "text,label\na,0\nb,3\n", {"num_classes": 3}, "line 3: label 3 is out of range; allowed ids are 0..2"),
        ("neg.csv", "text,label\na,-1\n", {}, "label -1 is out of range"),
        ("names.csv", "text,label\na,pos\nb,meh\n", {"label_names": ["neg", "pos"]}, "line 3: label 'meh' is not one of neg, pos"),
        ("ids.csv", "text,label\na,1\nb,2\n", {"label_names": ["neg", "pos"]}, "label 2 is out of range; allowed ids are 0..1"),
        ("many.csv", "text,label\na,x\nb,y\nc,z\n", {"num_classes": 2}, "3 distinct labels"),
        ("json.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": 1\n', {}, "line 2: not valid JSON"),
        ("float.jsonl", '{"text": "a", "label": 0.5}\n', {}, "label 0.5 must be an integer or a string"),
        ("nottext.jsonl", '{"text": 5, "label": 1}\n', {}, "column 'text' must hold text"),
        ("fields.csv", "text,label\na,1,extra\n", {}, "line 2: 3 fields, but the header names 2"),
        ("header.csv", "", {}, "is empty"),
        ("noex.csv", "text,label\n", {}, "has no examples"),
    ],
)  # fmt: skip
def test_file_errors_say_what_is_wrong(tmp_path, name, content, kwargs, message):
    path = tmp_path / name
    if content is not None:
        _write(path, content)
    with pytest.raises(UserError, match=message):
        load_source(str(path), **kwargs)


def test_unknown_source_lists_the_options():
    with pytest.raises(
        UserError, match="unknown source 'imdb': use a named source .*rotten-tomatoes.*tfds:NAME"
    ):
        load_source("imdb")


def test_empty_part_in_combination():
    with pytest.raises(UserError, match="empty part"):
        load_source("rotten-tomatoes+")


def test_combining_sources_with_different_labels(tmp_path):
    a = _write(tmp_path / "a.csv", "text,label\nx,pos\ny,neg\n")
    b = _write(tmp_path / "b.csv", "text,label\nz,good\nw,bad\n")
    with pytest.raises(UserError, match="labels differ"):
        load_source(f"{a}+{b}")
