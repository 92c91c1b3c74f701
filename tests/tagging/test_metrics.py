"""BIO entity metrics against hand-computed cases, token accuracy, the report."""

import numpy as np
import pytest

from albert_tf.tagging.metrics import (
    bio_entities,
    entity_scores,
    is_chunk_tagset,
    tagging_report,
    token_accuracy,
)


def test_entities_of_bio_sequences():
    assert bio_entities(["B-PER", "I-PER", "O", "B-LOC"]) == [("PER", 0, 1), ("LOC", 3, 3)]
    assert bio_entities(["B-PER", "B-PER"]) == [("PER", 0, 0), ("PER", 1, 1)]
    # conlleval / seqeval default: I- without B- starts an entity; a type change splits
    assert bio_entities(["O", "I-ORG", "I-ORG"]) == [("ORG", 1, 2)]
    assert bio_entities(["B-ORG", "I-LOC", "O"]) == [("ORG", 0, 0), ("LOC", 1, 1)]
    assert bio_entities(["O", "O"]) == []
    assert bio_entities(["B-MISC"]) == [("MISC", 0, 0)]


def test_entity_scores_match_seqeval_on_noisy_predictions():
    """seqeval (conlleval's rules, default mode) is the reference; random BIO tags include
    I- without B- and type changes inside a chunk, where hand-written rules usually differ."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    rng = np.random.default_rng(0)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
    gold = [list(rng.choice(tags, size=rng.integers(1, 20), p=[.5] + [1 / 12] * 6))
            for _ in range(300)]
    # Predictions: the gold tags with a quarter of them replaced at random.
    pred = [[t if rng.random() > 0.25 else str(rng.choice(tags)) for t in sentence]
            for sentence in gold]
    scores = entity_scores(gold, pred)
    assert scores["precision"] == pytest.approx(precision_score(gold, pred))
    assert scores["recall"] == pytest.approx(recall_score(gold, pred))
    assert scores["f1"] == pytest.approx(f1_score(gold, pred))
    reference = classification_report(gold, pred, output_dict=True)
    for entity_type in ("PER", "LOC", "ORG"):
        ours, theirs = scores["per_type"][entity_type], reference[entity_type]
        for key in ("precision", "recall", "f1-score"):
            assert ours[key.replace("-score", "")] == pytest.approx(theirs[key])
        assert ours["support"] == theirs["support"]


def test_entity_scores_hand_computed():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"],          # PER right, LOC missed
            ["B-ORG", "I-ORG", "O", "B-LOC"]]      # ORG span too short, spurious LOC
    scores = entity_scores(gold, pred)
    # gold: PER, LOC, ORG (3); predicted: PER, ORG(0-1), LOC (3); correct: PER (1)
    assert (scores["gold_entities"], scores["predicted_entities"],
            scores["correct_entities"]) == (3, 3, 1)
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(1 / 3)
    assert scores["per_type"]["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                                         "support": 1}
    assert scores["per_type"]["LOC"]["precision"] == 0.0
    assert scores["per_type"]["ORG"]["recall"] == 0.0


def test_entity_scores_precision_differs_from_recall():
    gold = [["B-PER", "O", "B-LOC", "I-LOC"]]
    pred = [["B-PER", "O", "B-LOC", "I-LOC"] ]
    assert entity_scores(gold, pred)["f1"] == 1.0
    pred = [["B-PER", "O", "O", "O"]]
    scores = entity_scores(gold, pred)
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5
    assert scores["f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def test_token_accuracy_and_report():
    gold = [["NOUN", "VERB"], ["DET", "NOUN", "."]]
    pred = [["NOUN", "NOUN"], ["DET", "NOUN", None]]
    assert token_accuracy(gold, pred) == pytest.approx(3 / 5)
    report = tagging_report(gold, pred, ["NOUN", "VERB", "DET", "."], majority_tag="NOUN")
    assert report["words_without_prediction"] == 1
    assert report["majority_tag_accuracy"] == pytest.approx(2 / 5)
    assert "entities" not in report  # POS tags are not a chunk tag set
    ner = tagging_report([["B-PER", "O"]], [[None, "O"]], ["O", "B-PER", "I-PER"])
    assert ner["entities"]["recall"] == 0.0  # a missing prediction counts as O


def test_chunk_tagset_detection():
    assert is_chunk_tagset(["O", "B-PER", "I-PER"])
    assert not is_chunk_tagset(["NOUN", "VERB", "."])
    assert not is_chunk_tagset(["O"])


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        token_accuracy([["A"]], [["A", "B"]])
