"""Simple models trained on the network's own training split: what every report shows beside it.

Classification: `majority_class` and `tfidf_logistic_regression` (TF-IDF n-grams + scikit-learn
`LogisticRegression`). Token classification: `majority_tag`, `most_frequent_tag` (per
lower-cased word) and, for entity (BIO) tag sets, `gazetteer` (longest match of the entity
strings seen in training). Each returns a `BaselineResult` with its per-example predictions, so
`paired_difference` can compare a model with it on the same test texts.

Examples:
>>> import numpy as np
>>> from albert_tf.data import TextExamples
>>> names = ["negative", "positive"]
>>> train = TextExamples(["good", "fine", "bad"], None, np.array([1, 1, 0]), names, "demo")
>>> test = TextExamples(["great", "awful"], None, np.array([1, 0]), names, "demo")
>>> majority_class(train, test).accuracy
0.5
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter, defaultdict

import numpy as np

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

# Joins a sentence pair into one text; its word ("sep") marks the boundary, so word bigrams
# across the two texts differ from bigrams inside one.
PAIR_SEPARATOR = " [SEP] "
NGRAMS = ("auto", "words", "characters")
# Above this share of CJK characters (of all non-space ones) texts are read as written
# without spaces between words: word n-grams would then be whole clauses.
CJK_SHARE = 0.3


@dataclasses.dataclass
class BaselineResult:
    """One baseline scored on a test set.

    Args:
        name: what the row is called in reports.
        method: how it predicts, in a few words.
        accuracy: share of correct test examples (classification) or words (tagging).
        predictions: per test example a label id; per test sentence a list of tag ids.
        correct: per scored example (or word, flattened in order) whether it was right.
        train_examples: training examples (or sentences) it learned from.
        train_seconds: time to fit.
        entity_f1: for entity tag sets, micro-averaged entity F1 on the test sentences.
        entity_per_type: for entity tag sets, precision / recall / F1 / support per type.
    """

    name: str
    method: str
    accuracy: float
    predictions: list
    correct: np.ndarray
    train_examples: int
    train_seconds: float
    entity_f1: float | None = None
    entity_per_type: dict | None = None

    def to_json(self) -> dict:
        """The report row (per-example predictions stay in memory)."""
        row = {"baseline": self.name, "method": self.method,
               "accuracy": round(float(self.accuracy), 4),
               "train_examples": self.train_examples,
               "train_seconds": round(self.train_seconds, 2)}
        if self.entity_f1 is not None:
            row["entity_f1"] = round(float(self.entity_f1), 4)
        if self.entity_per_type is not None:
            from albert_tf.tagging.metrics import rounded_per_type

            row["entity_per_type"] = rounded_per_type(self.entity_per_type)
        return row


@dataclasses.dataclass
class PairedDifference:
    """Accuracy of A minus accuracy of B on the same examples, with a bootstrap interval.

    Args:
        difference: observed accuracy difference (A - B).
        low, high: the paired bootstrap's 2.5th and 97.5th percentiles.
        examples: how many paired examples.
    """

    difference: float
    low: float
    high: float
    examples: int

    def to_json(self) -> dict:
        return {"difference": round(self.difference, 4), "low": round(self.low, 4),
                "high": round(self.high, 4), "examples": self.examples}


def _check_same_labels(train, test) -> None:
    if list(train.label_names) != list(test.label_names):
        raise UserError("a baseline's training and test examples must share their label names. "
                        f"Received: {train.label_names} and {test.label_names}")
    if not train.is_labelled or len(train) == 0:
        raise UserError(f"a baseline needs labelled training examples. Received: {len(train)} "
                        f"examples from {train.source!r}, labelled={train.is_labelled}")


def _classification_result(name, method, predictions, test, train, seconds) -> BaselineResult:
    predictions = np.asarray(predictions, dtype=np.int64)
    correct = predictions == test.labels
    return BaselineResult(name, method, float(correct.mean()) if len(correct) else 0.0,
                          predictions.tolist(), correct, len(train), seconds)


def majority_class(train, test) -> BaselineResult:
    """Predict the training split's most frequent label (lowest id on a tie) for every example.

    Args:
        train: labelled `TextExamples` to count labels in.
        test: labelled `TextExamples` to score.
    """
    _check_same_labels(train, test)
    label = int(np.bincount(train.labels, minlength=len(train.label_names)).argmax())
    return _classification_result(
        "majority class", f"always {train.label_names[label]!r}", np.full(len(test), label),
        test, train, 0.0)


def joined_texts(examples) -> list[str]:
    """The texts, each pair joined to its text with `PAIR_SEPARATOR`."""
    if examples.pairs is None:
        return list(examples.texts)
    return [f"{text}{PAIR_SEPARATOR}{pair}" for text, pair in zip(examples.texts, examples.pairs)]


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x3040 <= code <= 0x30FF
            or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F)


def cjk_share(texts, sample: int = 2000) -> float:
    """Share of CJK (Han, kana) characters among the non-space characters of the first
    `sample` texts."""
    chars = [c for text in texts[:sample] for c in text if not c.isspace()]
    return sum(map(_is_cjk, chars)) / len(chars) if chars else 0.0


def _vectorizer(ngrams: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    if ngrams == "characters":
        return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("characters", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                       sublinear_tf=True))])


def tfidf_logistic_regression(train, test, *, ngrams: str = "auto", C: float = 4.0,
                              max_iter: int = 1000) -> BaselineResult:
    """TF-IDF n-grams + `LogisticRegression`, fitted on `train`, scored on `test`.

    Texts with spaces between words get word 1–2-grams plus char_wb 2–5-grams (sublinear tf);
    Chinese / Japanese text gets character 1–3-grams (min_df 2). A sentence pair is read as
    its two texts joined by `PAIR_SEPARATOR`.

    Args:
        train: labelled `TextExamples` (at least two labels present).
        test: labelled `TextExamples` to score.
        ngrams: `"words"`, `"characters"`, or `"auto"` (characters when more than
            `CJK_SHARE` of the training texts' characters are CJK).
        C: inverse regularisation strength.
        max_iter: solver iterations.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    _check_same_labels(train, test)
    if ngrams not in NGRAMS:
        raise UserError(f"ngrams must be one of {NGRAMS}. Received: {ngrams!r}")
    present = np.unique(train.labels)
    if len(present) < 2:
        raise UserError("logistic regression needs at least two labels in the training "
                        f"examples. Received: only {[train.label_names[i] for i in present]}")
    texts = joined_texts(train)
    if ngrams == "auto":
        ngrams = "characters" if cjk_share(texts) > CJK_SHARE else "words"
    method = ("TF-IDF character 1-3-grams (min_df 2)" if ngrams == "characters" else
              "TF-IDF word 1-2-grams + char_wb 2-5-grams") + f", sublinear tf; LR C={C:g}"
    model = make_pipeline(_vectorizer(ngrams), LogisticRegression(C=C, max_iter=max_iter))
    started = time.perf_counter()
    model.fit(texts, train.labels)
    seconds = time.perf_counter() - started
    result = _classification_result("TF-IDF + LR", method, model.predict(joined_texts(test)),
                                    test, train, seconds)
    logger.info("baseline %s (%s): %.4f on %d test examples, trained on %d in %.1f s",
                result.name, method, result.accuracy, len(test), len(train), seconds)
    return result


def classification_baselines(train, test) -> list[BaselineResult]:
    """`[majority_class, tfidf_logistic_regression]` of `train` scored on `test`."""
    return [majority_class(train, test), tfidf_logistic_regression(train, test)]


def _check_same_tags(train, test) -> None:
    if list(train.tag_names) != list(test.tag_names):
        raise UserError("a tagging baseline's training and test sentences must share their tag "
                        f"names. Received: {train.tag_names} and {test.tag_names}")
    if not any(train.tags):
        raise UserError(f"a tagging baseline needs tagged training words. Received: "
                        f"{len(train)} sentences without any from {train.source!r}")


def _tagging_result(name, method, predictions, train, test, seconds) -> BaselineResult:
    from albert_tf.tagging.metrics import entity_scores, is_chunk_tagset

    correct = np.array([p == g for sentence, gold in zip(predictions, test.tags)
                        for p, g in zip(sentence, gold)], dtype=bool)
    entities = {}
    if is_chunk_tagset(test.tag_names):
        names = test.tag_names
        entities = entity_scores([[names[t] for t in s] for s in test.tags],
                                 [[names[t] for t in s] for s in predictions])
    return BaselineResult(name, method, float(correct.mean()) if len(correct) else 0.0,
                          predictions, correct, len(train), seconds, entities.get("f1"),
                          entities.get("per_type"))


def majority_tag(train, test) -> BaselineResult:
    """Tag every word with the training split's most frequent tag.

    Args:
        train, test: `TaggedSentences` with the same tag names.
    """
    _check_same_tags(train, test)
    tag = train.majority_tag()
    predictions = [[tag] * len(words) for words in test.words]
    return _tagging_result("majority tag", f"always {train.tag_names[tag]!r}", predictions,
                           train, test, 0.0)


def most_frequent_tag(train, test) -> BaselineResult:
    """Tag each word with the tag it carries most often in `train` (lower-cased word; ties go
    to the tag seen first); words not in `train` get the majority tag.

    Args:
        train, test: `TaggedSentences` with the same tag names.
    """
    _check_same_tags(train, test)
    started = time.perf_counter()
    counts = defaultdict(Counter)
    for words, tags in zip(train.words, train.tags):
        for word, tag in zip(words, tags):
            counts[word.lower()][tag] += 1
    lexicon = {word: tags.most_common(1)[0][0] for word, tags in counts.items()}
    fallback = train.majority_tag()
    seconds = time.perf_counter() - started
    predictions = [[lexicon.get(word.lower(), fallback) for word in words]
                   for words in test.words]
    return _tagging_result("most frequent tag", "per lower-cased word; unknown words: "
                           f"{train.tag_names[fallback]!r}", predictions, train, test, seconds)


def gazetteer(train, test) -> BaselineResult:
    """Tag the longest match, left to right, of the entity strings seen in `train` (each with
    the type it carries most often there; matched on lower-cased words); other words get O.
    For BIO entity tag sets (NER), where a word lookup cannot mark where entities begin.

    Args:
        train, test: `TaggedSentences` with the same BIO tag names (`B-X` / `I-X` / `O`).
    """
    from albert_tf.tagging.metrics import bio_entities

    _check_same_tags(train, test)
    names = list(train.tag_names)
    if "O" not in names or not any(t.startswith("B-") for t in names):
        raise UserError(f"the gazetteer baseline needs BIO entity tags (O, B-X, I-X). Received: "
                        f"{names}")
    started = time.perf_counter()
    types = defaultdict(Counter)
    for words, tags in zip(train.words, train.tags):
        for entity_type, first, last in bio_entities([names[t] for t in tags]):
            key = tuple(w.lower() for w in words[first:last + 1])
            types[key][entity_type] += 1
    index = {name: i for i, name in enumerate(names)}
    entries = {key: counts.most_common(1)[0][0] for key, counts in types.items()
               if f"B-{counts.most_common(1)[0][0]}" in index}
    longest = max((len(key) for key in entries), default=0)
    seconds = time.perf_counter() - started
    outside = index["O"]
    predictions = []
    for words in test.words:
        lowered = [w.lower() for w in words]
        tags, i = [outside] * len(words), 0
        while i < len(words):
            for length in range(min(longest, len(words) - i), 0, -1):
                entity_type = entries.get(tuple(lowered[i:i + length]))
                if entity_type is not None:
                    inside = index.get(f"I-{entity_type}", index[f"B-{entity_type}"])
                    tags[i:i + length] = [index[f"B-{entity_type}"]] + [inside] * (length - 1)
                    i += length
                    break
            else:
                i += 1
        predictions.append(tags)
    return _tagging_result("gazetteer", f"longest match of the {len(entries)} entity strings "
                           "seen in training", predictions, train, test, seconds)


def tagging_baselines(train, test) -> list[BaselineResult]:
    """`[majority_tag, most_frequent_tag]` of `train` scored on `test`, and `gazetteer` for
    BIO entity tag sets."""
    from albert_tf.tagging.metrics import is_chunk_tagset

    baselines = [majority_tag(train, test), most_frequent_tag(train, test)]
    names = list(train.tag_names)
    if is_chunk_tagset(names) and "O" in names and any(t.startswith("B-") for t in names):
        baselines.append(gazetteer(train, test))
    return baselines


def paired_difference(correct_a, correct_b, *, samples: int = 2000,
                      seed: int = 0) -> PairedDifference:
    """Accuracy of A minus B on the same examples, with a paired bootstrap 95 % interval.

    Each bootstrap sample draws examples with replacement and keeps both answers of each
    drawn example together, so what A and B have in common (easy and hard texts) cancels.

    Args:
        correct_a, correct_b: per-example correctness (bool or 0/1) of two models on the same
            examples in the same order.
        samples: bootstrap samples.
        seed: seed of the bootstrap's own `numpy.random.Generator`.
    """
    a = np.asarray(correct_a, dtype=np.float64).reshape(-1)
    b = np.asarray(correct_b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape or not len(a):
        raise UserError("a paired comparison needs two non-empty correctness vectors of the "
                        f"same length. Received: {len(a)} and {len(b)}")
    if samples < 1:
        raise UserError(f"samples must be >= 1. Received: {samples}")
    delta = a - b
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    chunk = max(1, 2_000_000 // len(delta))  # bounds the index matrix at ~16 MB
    for start in range(0, samples, chunk):
        count = min(chunk, samples - start)
        means[start:start + count] = delta[rng.integers(0, len(delta), (count, len(delta)))
                                           ].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return PairedDifference(float(delta.mean()), float(low), float(high), len(delta))
