"""Baselines beside every report: majority class, TF-IDF + LR, majority / most-frequent tag, and
the paired bootstrap difference. Hermetic: every data set is built here, seeded."""

import numpy as np
import pytest

from albert_tf.bench.baselines import (
    CJK_SHARE,
    cjk_share,
    gazetteer,
    majority_class,
    majority_tag,
    most_frequent_tag,
    paired_difference,
    tagging_baselines,
    tfidf_logistic_regression,
)
from albert_tf.bench.report import markdown
from albert_tf.data import TextExamples
from albert_tf.errors import UserError
from albert_tf.tagging import from_string_tags

NAMES = ["negative", "positive"]
CONSONANTS, VOWELS = "bcdfghklmnprstvz", "aeiou"


def _words(rng, count, length=3):
    """Distinct pronounceable pseudo-words (`kotapi`, ...)."""
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(list(CONSONANTS)) + rng.choice(list(VOWELS))
                          for _ in range(length)))
    return sorted(words)


def _reviews(rng, count, positive_share=0.6, cue_noise=0.15, cues_in="text"):
    """Reviews of 8-14 filler words plus 3 cue words; a cue comes from the label's own set
    with probability 1 - cue_noise, else from the other set (a reader that counts cues scores
    0.85^3 + 3 * 0.85^2 * 0.15 = 0.94). `cues_in="pair"` puts the cues
    only in the second text, so only a model that reads pairs can learn the label."""
    vocab = _words(np.random.default_rng(0), 260)
    filler, cues = vocab[:200], {1: vocab[200:230], 0: vocab[230:260]}
    labels = (rng.random(count) < positive_share).astype(np.int32)
    texts, pairs = [], []
    for label in labels:
        words = list(rng.choice(filler, rng.integers(8, 15)))
        signal = [rng.choice(cues[label if rng.random() > cue_noise else 1 - label])
                  for _ in range(3)]
        if cues_in == "pair":
            texts.append(" ".join(words))
            pairs.append(" ".join(list(rng.choice(filler, 4)) + signal))
        else:
            for cue in signal:
                words.insert(rng.integers(len(words) + 1), cue)
            texts.append(" ".join(words))
    return TextExamples(texts, pairs or None, labels, NAMES, "synthetic")


def test_majority_class_scores_the_share_of_the_training_majority_label():
    train = TextExamples(["a"] * 10, None, [0] * 3 + [1] * 7, NAMES, "demo")
    test = TextExamples(["b"] * 10, None, [1] * 4 + [0] * 6, NAMES, "demo")
    row = majority_class(train, test)
    assert row.predictions == [1] * 10
    assert row.accuracy == pytest.approx(0.4)
    assert row.to_json()["baseline"] == "majority class" and row.train_examples == 10


def test_tfidf_logistic_regression_learns_a_cue_word_task_well_above_majority():
    train = _reviews(np.random.default_rng(1), 400)
    test = _reviews(np.random.default_rng(2), 300)
    majority = majority_class(train, test)
    tfidf = tfidf_logistic_regression(train, test)
    # Counting cues scores 0.94, always "positive" about 0.6.
    assert majority.accuracy == pytest.approx(np.mean(test.labels == 1))
    assert tfidf.accuracy > majority.accuracy + 0.2, (tfidf.accuracy, majority.accuracy)
    assert "word 1-2-grams + char_wb 2-5-grams" in tfidf.method
    assert tfidf.correct.shape == (300,) and tfidf.correct.mean() == tfidf.accuracy


def test_sentence_pairs_are_read_as_both_texts():
    train = _reviews(np.random.default_rng(3), 400, cues_in="pair")
    test = _reviews(np.random.default_rng(4), 300, cues_in="pair")
    assert train.pairs is not None
    tfidf = tfidf_logistic_regression(train, test)
    assert tfidf.accuracy > majority_class(train, test).accuracy + 0.2


def _chinese_reviews(rng, count):
    """Texts written without spaces: 10-20 filler characters with two cue characters."""
    filler = [chr(c) for c in range(0x4E00, 0x4E00 + 300)]
    cues = {1: list("好棒赞爱美"), 0: list("差烂糟恨丑")}
    labels = (rng.random(count) < 0.5).astype(np.int32)
    texts = []
    for label in labels:
        chars = list(rng.choice(filler, rng.integers(10, 21)))
        for _ in range(2):
            chars.insert(rng.integers(len(chars) + 1),
                         rng.choice(cues[label if rng.random() > 0.15 else 1 - label]))
        texts.append("".join(chars))
    return TextExamples(texts, None, labels, NAMES, "synthetic-zh")


def test_chinese_texts_get_character_ngrams_unless_overridden():
    train = _chinese_reviews(np.random.default_rng(5), 400)
    test = _chinese_reviews(np.random.default_rng(6), 200)
    assert cjk_share(train.texts) > CJK_SHARE > cjk_share(_reviews(np.random.default_rng(0),
                                                                   5).texts)
    auto = tfidf_logistic_regression(train, test)
    assert auto.method.startswith("TF-IDF character 1-3-grams (min_df 2)")
    assert auto.accuracy > majority_class(train, test).accuracy + 0.2
    forced = tfidf_logistic_regression(train, test, ngrams="words")
    assert forced.method.startswith("TF-IDF word 1-2-grams")
    # Word n-grams of unspaced text are whole texts; only char_wb n-grams inside them help.
    assert auto.accuracy > forced.accuracy + 0.1, (auto.accuracy, forced.accuracy)
    with pytest.raises(UserError, match="ngrams must be one of"):
        tfidf_logistic_regression(train, test, ngrams="bytes")


def test_mismatched_label_names_are_refused():
    train = TextExamples(["a", "b"], None, [0, 1], NAMES, "demo")
    test = TextExamples(["a"], None, [0], ["neg", "pos"], "demo")
    with pytest.raises(UserError, match="share their label names"):
        majority_class(train, test)


TAGS = ["ADJ", "DET", "NOUN", "PRON", "VERB"]


def test_most_frequent_tag_on_a_hand_tagged_set():
    train = from_string_tags([
        (["the", "dog", "barks"], ["DET", "NOUN", "VERB"]),
        (["The", "dogs", "run"], ["DET", "NOUN", "VERB"]),
        (["a", "run", "ends"], ["DET", "NOUN", "VERB"]),
        (["they", "run"], ["PRON", "VERB"]),
        (["dog", "food"], ["NOUN", "NOUN"]),
    ], TAGS)  # NOUN 5 is the majority tag; "run" is VERB 2, NOUN 1
    test = from_string_tags([
        (["The", "run", "barks"], ["DET", "NOUN", "VERB"]),  # DET VERB VERB: 2 of 3
        (["cats", "run"], ["NOUN", "VERB"]),                 # unknown -> NOUN: 2 of 2
        (["A", "big", "dog"], ["DET", "ADJ", "NOUN"]),       # DET NOUN NOUN: 2 of 3
    ], TAGS)
    row = most_frequent_tag(train, test)
    assert [[TAGS[t] for t in s] for s in row.predictions] == [
        ["DET", "VERB", "VERB"], ["NOUN", "VERB"], ["DET", "NOUN", "NOUN"]]
    assert row.accuracy == pytest.approx(6 / 8)
    assert majority_tag(train, test).accuracy == pytest.approx(3 / 8)  # run, cats, dog


NER_TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_gazetteer_tags_the_longest_known_entity_string():
    train = from_string_tags([
        (["New", "York", "is", "big"], ["B-LOC", "I-LOC", "O", "O"]),
        (["York", "visited"], ["B-PER", "O"]),
        (["York", "met", "Ann"], ["B-PER", "O", "B-PER"]),
        (["in", "York", "today"], ["O", "B-LOC", "O"]),
    ], NER_TAGS)  # "york" alone: PER twice, LOC once
    test = from_string_tags([
        (["Ann", "left", "new", "york"], ["B-PER", "O", "B-LOC", "I-LOC"]),  # both found
        (["York", "and", "Bob"], ["B-LOC", "O", "B-PER"]),   # York -> PER (wrong); Bob unknown
    ], NER_TAGS)
    row = gazetteer(train, test)
    assert [[NER_TAGS[t] for t in s] for s in row.predictions] == [
        ["B-PER", "O", "B-LOC", "I-LOC"], ["B-PER", "O", "O"]]
    assert row.accuracy == pytest.approx(5 / 7)
    # 2 of 3 predicted entities right, 2 of 4 gold ones found.
    assert row.entity_f1 == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))
    assert row.to_json()["entity_f1"] == round(row.entity_f1, 4)
    names = [b.name for b in tagging_baselines(train, test)]
    assert names == ["majority tag", "most frequent tag", "gazetteer"]


def test_gazetteer_is_only_for_entity_tags():
    train = from_string_tags([(["the", "dog"], ["DET", "NOUN"])], TAGS)
    with pytest.raises(UserError, match="BIO entity tags"):
        gazetteer(train, train)
    assert [b.name for b in tagging_baselines(train, train)] == ["majority tag",
                                                                 "most frequent tag"]
    assert most_frequent_tag(train, train).entity_f1 is None


def _two_models(rng, count, p_a, p_b):
    """Correctness of two models on `count` examples drawn from one population: A is right
    when u < p_a; B shares A's easy and hard examples (u) 70 % of the time."""
    u = rng.random(count)
    v = np.where(rng.random(count) < 0.7, u, rng.random(count))
    return u < p_a, v < p_b


def test_paired_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    covered, widths = 0, []
    for repeat in range(200):
        a, b = _two_models(rng, 200, 0.75, 0.70)
        interval = paired_difference(a, b, samples=1000, seed=repeat)
        covered += interval.low <= 0.05 <= interval.high
        widths.append(interval.high - interval.low)
    assert covered / 200 >= 0.88, covered
    assert np.mean(widths) < 0.2  # informative, not everything


def test_paired_interval_excludes_zero_when_one_model_is_clearly_better():
    a, b = _two_models(np.random.default_rng(8), 400, 0.9, 0.6)
    better = paired_difference(a, b)
    assert better.difference == pytest.approx(a.mean() - b.mean())
    assert better.low > 0.15 and better.low <= better.difference <= better.high
    worse = paired_difference(b, a)
    assert worse.high < -0.15
    assert paired_difference(a, b) == better  # its own seeded generator: same answer
    same = paired_difference(a, a)
    assert (same.difference, same.low, same.high) == (0.0, 0.0, 0.0)
    with pytest.raises(UserError, match="same length"):
        paired_difference(a, b[:-1])


def test_the_bench_report_shows_baseline_rows_and_the_paired_line():
    results = {"title": "t", "eval_examples": 40, "threads": [1], "onnx": "skipped",
               "gated_artifact": "model-dynamic-int8.tflite",
               "artifacts": [{"artifact": "model-dynamic-int8.tflite", "kind": "tflite",
                              "accuracy": 0.7, "size_bytes": 1,
                              "latency": {"1": {"median_ms": 1.0, "p90_ms": 1.2,
                                                "achieved_gflops": 1.0}},
                              "paired_vs_tfidf": {"difference": 0.05, "low": -0.025,
                                                  "high": 0.125, "examples": 40}}],
               "baselines": [{"baseline": "majority class", "method": "always 'positive'",
                              "accuracy": 0.575, "train_examples": 120},
                             {"baseline": "TF-IDF + LR", "method": "TF-IDF ...",
                              "accuracy": 0.65, "train_examples": 120}]}
    text = markdown([results])
    assert "| majority class (baseline) | baseline | 0.5750 |" in text
    assert "| TF-IDF + LR (baseline) | baseline | 0.6500 |" in text
    assert ("model-dynamic-int8.tflite (gated) +0.0500 [-0.0250, +0.1250]" in text
            and "same 40 test examples" in text and "same 120 training examples" in text)
