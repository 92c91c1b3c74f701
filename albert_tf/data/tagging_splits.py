"""`load_tagging_splits`: the train / dev / test tagged sentences of a `TaggingDataSpec`, the
token-classification counterpart of `albert_tf.data.spec.load_splits`.

Kept free of TensorFlow, so the CLI and the recipe runner load (and reject bad) data before
TensorFlow starts.
"""

from __future__ import annotations

from albert_tf.data.splits import Splits
from albert_tf.tagging.config import TaggingDataSpec
from albert_tf.tagging.examples import TaggedSentences, limit, load_tagged, split_tagged


def load_tagging_splits(spec: TaggingDataSpec, tag_names=None) -> Splits:
    """The train / dev / test tagged sentences of `spec`, sharing one tag id order.

    Args:
        spec: `TaggingDataSpec`.
        tag_names: tag names in id order (e.g. a trained tagger's); default the data's.

    Returns:
        `Splits` of `TaggedSentences`, the type classification loaders return too.
    """
    columns = dict(word_column=spec.word_column, tag_column=spec.tag_column,
                   separator=spec.separator)
    data = load_tagged(spec.source, tag_names=tag_names, **columns)
    given = {name: load_tagged(path, tag_names=data.tag_names, **columns)
             for name, path in (("dev", spec.dev_file), ("test", spec.test_file)) if path}
    if len(given) == 2:
        train, dev, test = data, given["dev"], given["test"]
    else:
        train, dev, test = split_tagged(data, seed=spec.seed)
        if "dev" in given:  # carve test only: the carved dev joins the training split
            train, dev = _merge(train, dev), given["dev"]
        elif "test" in given:
            train, test = _merge(train, test), given["test"]
    return Splits(limit(train, spec.train_limit), limit(dev, spec.dev_limit),
                  limit(test, spec.test_limit))


def _merge(a: TaggedSentences, b: TaggedSentences) -> TaggedSentences:
    return TaggedSentences(a.words + b.words, a.tags + b.tags, a.tag_names, a.source)
