"""The tagging report of an entity (BIO) tag set: entity F1 in every row, baselines included,
and precision / recall / F1 per type. Hermetic: results as the report stage writes them."""

import pytest

from albert_tf.recipe.tagging_report import _entities, _markdown
from albert_tf.tagging.metrics import tagging_report

NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_entity_columns_and_the_per_type_table():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "I-LOC", "O"]]
    predicted = [["B-PER", "I-PER", "O", "O"], ["B-LOC", "I-LOC", "B-PER"]]
    scores = _entities(tagging_report(gold, predicted, NAMES))
    # gold PER, LOC, LOC; predicted PER, LOC, PER: 2 right of 3 each way
    assert scores["entity_f1"] == round(2 / 3, 4)
    assert scores["entity_per_type"]["LOC"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667,
                                                "support": 2}
    row = {"artifact": "model-dynamic-int8.tflite", "mode": "dynamic-int8",
           "token_accuracy": 5 / 7, "accuracy_change": 0.0, "size_bytes": 1_000_000,
           "gzip_bytes": 900_000, "latency": {"1": {"median_ms": 1.0, "p90_ms": 1.2}},
           "speedup": 4.0, **scores}
    baseline = {"baseline": "gazetteer", "method": "longest match", "accuracy": 0.9,
                "train_examples": 10, "train_seconds": 0.0, "entity_f1": 0.5,
                "entity_per_type": {"PER": {"precision": 1.0, "recall": 0.5, "f1": 0.6667,
                                            "support": 2}}}
    text = _markdown({"recipe": "ner", "test_sentences": 2, "test_words": 7, "threads": [1],
                      "artifacts": [row], "baselines": [baseline], "gates": []})
    assert "| artifact | token accuracy | entity F1 | Δ vs teacher |" in text
    assert "| model-dynamic-int8.tflite | 0.7143 | 0.6667 | +0.0000 |" in text
    assert "| gazetteer (baseline) | 0.9000 | 0.5000 |" in text
    assert "## Entities per type (precision / recall / F1)" in text
    assert "| model-dynamic-int8.tflite | 1.000 / 0.500 / 0.667 | 0.500 / 1.000 / 0.667 |" in text
    assert "| gazetteer (baseline) |  | 1.000 / 0.500 / 0.667 |" in text


def test_a_pos_report_has_no_entity_columns():
    row = {"artifact": "model-float32.tflite", "token_accuracy": 0.9, "accuracy_change": 0.0,
           "size_bytes": 1, "gzip_bytes": 1, "latency": None}
    text = _markdown({"recipe": "pos", "test_sentences": 1, "test_words": 2, "threads": [1],
                      "artifacts": [row], "baselines": [], "gates": []})
    assert "entity F1" not in text and "Entities per type" not in text


def test_the_margin_gate_compares_with_the_strongest_baseline():
    from albert_tf.bench.baselines import BaselineResult
    from albert_tf.recipe.tagging_report import margin_over_baselines

    def baseline(name, accuracy, f1=None):
        return BaselineResult(name, "", accuracy, [], None, 1, 0.0, f1)

    pos = [baseline("majority tag", 0.24), baseline("most frequent tag", 0.92)]
    assert margin_over_baselines({"token_accuracy": 0.834}, pos) == pytest.approx(-0.086)
    ner = [baseline("majority tag", 0.92, 0.0), baseline("most frequent tag", 0.94, 0.10),
           baseline("gazetteer", 0.96, 0.57)]
    row = {"token_accuracy": 0.97, "entity_f1": 0.80}
    assert margin_over_baselines(row, ner) == pytest.approx(0.23)
    assert margin_over_baselines(row, ner[:1]) is None
