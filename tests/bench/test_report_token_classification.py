"""The one report, for a token classifier: the tagging columns (token accuracy, entity F1,
token-level ECE) beside the baselines, precision / recall / F1 per entity type, the ship line
and the margin over the strongest baseline. Hermetic: results as the report stage writes them."""

import re

import numpy as np
import pytest

from albert_tf.bench.report import html_report, margin_over_baselines, markdown
from albert_tf.bench.tagging_measure import entity_scores, token_ece
from albert_tf.tagging.metrics import tagging_report

NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def ner_results(**changes):
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "I-LOC", "O"]]
    predicted = [["B-PER", "I-PER", "O", "O"], ["B-LOC", "I-LOC", "B-PER"]]
    scores = entity_scores(tagging_report(gold, predicted, NAMES))
    teacher = {"artifact": "teacher-float32.tflite", "kind": "tflite", "role": "teacher",
               "token_accuracy": 6 / 7, "entity_f1": 0.9, "size_bytes": 4_000_000,
               "latency": {"1": {"median_ms": 4.0, "p90_ms": 4.4}}, "speedup": 1.0}
    row = {"artifact": "model-dynamic-int8.tflite", "kind": "tflite", "mode": "dynamic-int8",
           "path": "/x/run/export/model-dynamic-int8.tflite", "token_accuracy": 5 / 7,
           "ece": 0.125, "accuracy_change": -0.1429, "size_bytes": 1_000_000,
           "gzip_bytes": 900_000, "latency": {"1": {"median_ms": 1.0, "p90_ms": 1.2}},
           "speedup": 4.0, "speedup_interval": [3.5, 4.5], **scores}
    baselines = [{"baseline": "majority tag", "method": "always 'O'", "accuracy": 0.4,
                  "train_examples": 10, "train_seconds": 0.0, "entity_f1": 0.0},
                 {"baseline": "gazetteer", "method": "longest match", "accuracy": 0.9,
                  "train_examples": 10, "train_seconds": 0.0, "entity_f1": 0.5,
                  "entity_per_type": {"PER": {"precision": 1.0, "recall": 0.5, "f1": 0.6667,
                                              "support": 2}}}]
    run = {"title": "ner", "task": "token-classification", "eval_examples": 2,
           "test_words": 7, "threads": [1], "teacher_artifact": "teacher-float32.tflite",
           "artifacts": [teacher, row], "baselines": baselines, "gates": [],
           "gated_artifact": "model-dynamic-int8.tflite"}
    run.update(changes)
    return run


def test_entity_columns_the_per_type_table_and_the_ship_line():
    run = ner_results()
    scores = run["artifacts"][1]
    # gold PER, LOC, LOC; predicted PER, LOC, PER: 2 right of 3 each way
    assert scores["entity_f1"] == round(2 / 3, 4)
    assert scores["entity_per_type"]["LOC"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667,
                                                "support": 2}
    text = markdown([run])
    assert "| artifact | kind | token accuracy | entity F1 | ECE | Δ vs teacher | size MB |" \
        in text
    assert "| model-dynamic-int8.tflite (shipped) | tflite | 0.7143 | 0.6667 | 0.125 | -0.1429 |" \
        in text
    assert "speed-up |" in text and "| 4.00× [3.50, 4.50] |" in text
    assert "| gazetteer (baseline) | baseline | 0.9000 | 0.5000 |" in text
    assert "## Entities per type (precision / recall / F1)" in text
    assert "| model-dynamic-int8.tflite | 1.000 / 0.500 / 0.667 | 0.500 / 1.000 / 0.667 |" in text
    assert "| gazetteer (baseline) |  | 1.000 / 0.500 / 0.667 |" in text
    assert "token accuracy on 2 test examples (7 words)" in text
    assert text.splitlines()[0] == (
        "**Ship `export/model-dynamic-int8.tflite`**: 1.00 MB, 4.00× [3.50, 4.50] faster than "
        "the teacher's float32 TFLite (1 thread), 83.3 % of the teacher's token accuracy "
        "(0.7143 against 0.8571), +16.7 points of entity F1 over gazetteer.")


def test_a_pos_report_has_no_entity_columns_and_plots_token_accuracy():
    row = {"artifact": "model-float32.tflite", "kind": "tflite", "token_accuracy": 0.9,
           "accuracy_change": 0.0, "size_bytes": 1, "gzip_bytes": 1,
           "latency": {"1": {"median_ms": 1.0, "p90_ms": 1.1}}}
    run = {"title": "pos", "task": "token-classification", "eval_examples": 1, "threads": [1],
           "artifacts": [row], "baselines": [], "gates": []}
    text = markdown([run])
    assert "entity F1" not in text and "Entities per type" not in text
    assert "GFLOP/s" not in text and "parameters" not in text  # no row has them
    page = html_report([run])
    assert re.findall(r'<img alt="([^"]+)"', page) == ["accuracy against latency, 1 thread",
                                                        "accuracy against size"]


def test_token_level_ece_leaves_truncated_words_out():
    from albert_tf.tagging.examples import TaggedSentences
    from albert_tf.text.token_pipeline import WordPredictions

    test = TaggedSentences([["a", "b"], ["c"]], [[0, 1], [1]], ["X", "Y"], "demo")
    # word a: 0.9 on X (right), b: 0.6 on X (wrong), c: truncated (its row is zeros)
    predictions = WordPredictions([[0, 0], [-1]], [np.array([[0.9, 0.1], [0.6, 0.4]]),
                                                   np.zeros((1, 2))])
    assert token_ece(predictions, test) == pytest.approx(0.35)


def test_the_margin_gate_compares_with_the_strongest_baseline():
    def baseline(name, accuracy, f1=None):
        return {"baseline": name, "accuracy": accuracy,
                **({} if f1 is None else {"entity_f1": f1})}

    pos = [baseline("majority tag", 0.24), baseline("most frequent tag", 0.92)]
    margin = margin_over_baselines({"token_accuracy": 0.834}, pos, "token_accuracy")
    assert margin["value"] == pytest.approx(-0.086) and margin["baseline"] == "most frequent tag"
    ner = [baseline("majority tag", 0.92, 0.0), baseline("most frequent tag", 0.94, 0.10),
           baseline("gazetteer", 0.96, 0.57)]
    row = {"token_accuracy": 0.97, "entity_f1": 0.80}
    margin = margin_over_baselines(row, ner, "token_accuracy")
    assert margin == {"value": pytest.approx(0.23), "baseline": "gazetteer",
                      "measure": "entity_f1"}
    assert margin_over_baselines(row, ner[:1], "token_accuracy") is None
    classification = [baseline("majority class", 0.5), baseline("TF-IDF + LR", 0.76)]
    assert margin_over_baselines({"accuracy": 0.78}, classification)["value"] == \
        pytest.approx(0.02)
