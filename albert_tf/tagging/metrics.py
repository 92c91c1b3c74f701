"""Word-level tagging metrics: token accuracy and entity-level precision / recall / F1.

Entities follow seqeval's default (conlleval-compatible) chunking: a chunk starts at `B-X`, at
`S-X`, or at an `I-X` / `E-X` that does not continue a chunk of type X; it ends before `O`, `B`,
`S` or a change of type. A predicted entity counts as correct only when its type, first and
last word all equal a gold entity's (exact span match). Pure Python, so Keras models,
SavedModels and TFLite files are scored by the same code from their own word predictions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

CHUNK_PREFIXES = ("B", "I", "E", "S")


def _split_tag(tag: str) -> tuple[str, str]:
    """`("B", "PER")` for `B-PER`, `("O", "_")` for `O` (seqeval's parsing, prefix style)."""
    if not tag or tag == "O":
        return "O", "_"
    prefix = tag[0]
    entity_type = tag[1:].split("-", maxsplit=1)[-1] or "_"
    return prefix, entity_type


def _ends_chunk(prev_tag, tag, prev_type, entity_type) -> bool:
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != entity_type


def _starts_chunk(prev_tag, tag, prev_type, entity_type) -> bool:
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag not in ("O", ".") and prev_type != entity_type


def bio_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of one sentence as `(type, first word, last word)`, last inclusive.

    Args:
        tags: the sentence's tags, e.g. `["B-PER", "I-PER", "O", "B-LOC"]`.

    Examples:
    >>> bio_entities(["B-PER", "I-PER", "O", "B-LOC"])
    [('PER', 0, 1), ('LOC', 3, 3)]
    >>> bio_entities(["I-ORG", "I-ORG", "B-ORG"])
    [('ORG', 0, 1), ('ORG', 2, 2)]
    """
    entities = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, entity_type = _split_tag(tag)
        if _ends_chunk(prev_tag, prefix, prev_type, entity_type):
            entities.append((prev_type, begin, i - 1))
        if _starts_chunk(prev_tag, prefix, prev_type, entity_type):
            begin = i
        prev_tag, prev_type = prefix, entity_type
    return entities


def is_chunk_tagset(tag_names: Sequence[str]) -> bool:
    """True when every tag is `O` or `B-` / `I-` / `E-` / `S-` something (entity tags)."""
    return any(t != "O" for t in tag_names) and all(
        t == "O" or (len(t) > 2 and t[0] in CHUNK_PREFIXES and t[1] == "-") for t in tag_names)


def _prf(correct: int, predicted: int, gold: int) -> dict:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": gold}


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """Micro-averaged entity precision / recall / F1 over all sentences, and per type.

    Args:
        gold: the true tags, one list per sentence.
        predicted: the predicted tags, same shape.

    Returns:
        `{"precision", "recall", "f1", "gold_entities", "predicted_entities",
        "correct_entities", "per_type": {type: {"precision", "recall", "f1", "support"}}}`.
    """
    _check_shapes(gold, predicted)
    gold_set, predicted_set = set(), set()
    for n, (g, p) in enumerate(zip(gold, predicted)):
        gold_set.update((n, *entity) for entity in bio_entities(g))
        predicted_set.update((n, *entity) for entity in bio_entities(p))
    correct = gold_set & predicted_set
    counts = {name: Counter(e[1] for e in entities)
              for name, entities in (("gold", gold_set), ("predicted", predicted_set),
                                     ("correct", correct))}
    types = sorted(set(counts["gold"]) | set(counts["predicted"]))
    return {
        **_prf(len(correct), len(predicted_set), len(gold_set)),
        "gold_entities": len(gold_set),
        "predicted_entities": len(predicted_set),
        "correct_entities": len(correct),
        "per_type": {t: _prf(counts["correct"][t], counts["predicted"][t], counts["gold"][t])
                     for t in types},
    }


def rounded_per_type(per_type: dict, digits: int = 4) -> dict:
    """`entity_scores(...)["per_type"]` with its floats rounded for a report row."""
    return {t: {k: round(v, digits) if isinstance(v, float) else v for k, v in scores.items()}
            for t, scores in per_type.items()}


def token_accuracy(gold: Sequence[Sequence], predicted: Sequence[Sequence]) -> float:
    """Share of words whose predicted tag equals the gold tag.

    Args:
        gold: true tags (names or ids), one list per sentence.
        predicted: predicted tags, same shape (None for a word with no prediction counts wrong).
    """
    _check_shapes(gold, predicted)
    total = sum(len(g) for g in gold)
    right = sum(a == b for g, p in zip(gold, predicted) for a, b in zip(g, p))
    return right / total if total else 0.0


def per_tag_accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """`{tag: {"accuracy", "support"}}`: recall of each gold tag at the word level."""
    support, right = Counter(), Counter()
    for g, p in zip(gold, predicted):
        for a, b in zip(g, p):
            support[a] += 1
            right[a] += a == b
    return {tag: {"accuracy": right[tag] / support[tag], "support": support[tag]}
            for tag in sorted(support)}


def tagging_report(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str | None]],
                   tag_names: Sequence[str], majority_tag: str | None = None) -> dict:
    """Token accuracy (and entity scores for chunk tag sets) of word-level predictions.

    Words without a prediction (cut off by the model's sequence length) count as wrong for
    accuracy and as `O` for entities; how many there were is reported.

    Args:
        gold: true tag names, one list per sentence.
        predicted: predicted tag names (None where the model gave none).
        tag_names: all tags of the model.
        majority_tag: the training split's most frequent tag: adds the accuracy of always
            predicting it (the baseline a tagger must beat).
    """
    _check_shapes(gold, predicted)
    missing = sum(p is None for sentence in predicted for p in sentence)
    report = {
        "sentences": len(gold),
        "words": sum(len(g) for g in gold),
        "words_without_prediction": missing,
        "token_accuracy": token_accuracy(gold, predicted),
        "per_tag": per_tag_accuracy(gold, predicted),
    }
    if majority_tag is not None:
        report["majority_tag"] = majority_tag
        report["majority_tag_accuracy"] = token_accuracy(
            gold, [[majority_tag] * len(g) for g in gold])
    if is_chunk_tagset(tag_names):
        filled = [["O" if p is None else p for p in sentence] for sentence in predicted]
        report["entities"] = entity_scores(gold, filled)
    return report


def _check_shapes(gold, predicted) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    for n, (g, p) in enumerate(zip(gold, predicted)):
        if len(g) != len(p):
            raise ValueError(f"sentence {n}: {len(g)} gold tags but {len(p)} predicted")
