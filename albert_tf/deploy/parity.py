"""Parity checks: does an artifact compute what the Keras model computes, on awkward text?

Two kinds of checks, both run on `PARITY_TEXTS` (the suite in `parity_texts.json`: 234 texts
in 17 classes, from accented Latin to control characters) unless other texts are given:

* output parity: the artifact's class probabilities against the Keras model's on the same
  texts; float32 artifacts must agree within `FLOAT32_TOLERANCE`, the quantized modes have no
  fixed bound and their errors (and how often the predicted class changes) are reported;
* tokenisation parity: ids from keras-hub's tokenizer, from the library an edge kit uses
  without TensorFlow (`sentencepiece` for SentencePiece vocabularies; for WordPiece ones
  keras-hub's pure-Python pre-tokenisation plus greedy WordPiece, the algorithm
  `export/edge/classify.py` implements), and from the artifact's own in-graph tokenizer must
  be identical.

`parity_failures` lists what an artifact failed; `enforce_parity` turns that into the export
gate (`ParityError`: nothing is written) unless the mismatch is explicitly allowed, in which
case it is recorded in the report.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from albert_tf.deploy.classifier_graph import (
    TOKEN_INPUT_NAMES,
    classifier_spec,
    keras_probabilities,
    pack_texts,
)
from albert_tf.errors import ParityError

logger = logging.getLogger(__name__)

FLOAT32_TOLERANCE = 1e-4
SUITE_FILE = Path(__file__).with_name("parity_texts.json")


def _load_suite() -> dict[str, tuple[str, ...]]:
    data = json.loads(SUITE_FILE.read_text(encoding="utf-8"))
    return {name: tuple(texts) for name, texts in data["classes"].items()}


# The parity suite: {class: texts}, written by tests/deploy/make_parity_texts.py (234 texts:
# scripts, accents, widths, emoji, control characters, spaces, very long texts, empty).
PARITY_SUITE = _load_suite()
PARITY_TEXTS = tuple(text for texts in PARITY_SUITE.values() for text in texts)
_CLASS_OF = {text: name for name, texts in PARITY_SUITE.items() for text in texts}
# Report entries that must be True for an artifact to pass (`parity_failures`).
GATED_CHECKS = ("within_tolerance", "in_graph_identical", "pairs_packed_identical",
                "labels_match_probabilities")


def mismatch_classes(texts) -> dict[str, int]:
    """`{suite class: mismatching texts}` ("other" for texts outside the suite)."""
    counts: dict[str, int] = {}
    for text in texts:
        name = _CLASS_OF.get(text, "other")
        counts[name] = counts.get(name, 0) + 1
    return counts


def _max_errors(reference: np.ndarray, actual: np.ndarray) -> dict:
    difference = np.abs(reference.astype(np.float64) - actual.astype(np.float64))
    return {
        "max_abs_error": float(difference.max()) if difference.size else 0.0,
        "mean_abs_error": float(difference.mean()) if difference.size else 0.0,
        "argmax_agreement": float(np.mean(reference.argmax(-1) == actual.argmax(-1)))
        if len(reference) else 1.0,
    }


def tolerance_for(mode: str) -> float | None:
    """The parity bound a mode must meet, or None when the error is only reported."""
    return FLOAT32_TOLERANCE if mode == "float32" else None


def output_parity(reference: np.ndarray, actual: np.ndarray, mode: str) -> dict:
    """Compare probabilities `[n, classes]` of the Keras model and an artifact.

    Args:
        reference: the Keras model's probabilities.
        actual: the artifact's probabilities on the same inputs.
        mode: the artifact's mode (sets the tolerance).
    """
    errors = _max_errors(reference, actual)
    tolerance = tolerance_for(mode)
    return {
        "texts": int(len(reference)),
        **errors,
        "tolerance": tolerance,
        "within_tolerance": None if tolerance is None else errors["max_abs_error"] <= tolerance,
    }


def _edge_library_ids(model, texts) -> tuple[str, list[list[int]]]:
    """Token ids from the library an edge kit uses without TensorFlow."""
    tokenizer = model.preprocessor.tokenizer
    if classifier_spec(model).tokenizer_kind == "sentencepiece":
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor(model_proto=tokenizer.proto)
        return "sentencepiece", [list(ids) for ids in processor.encode(list(texts))]
    # keras-hub's pure-Python path: the algorithm of the edge kit's WordPieceIds (Hugging Face
    # `tokenizers`' BertNormalizer differs from keras-hub on 64 of the suite's 234 texts).
    from keras_hub.src.tokenizers.word_piece_tokenizer import pretokenize_python

    vocab = {piece: i for i, piece in enumerate(tokenizer.get_vocabulary())}
    ids = []
    for text in texts:
        words = pretokenize_python(text, tokenizer.lowercase, tokenizer.strip_accents)
        ids.append(_python_wordpiece(words, vocab, tokenizer))
    return "keras-hub pretokenize_python + WordPiece (python)", ids


def _python_wordpiece(words, vocab, tokenizer) -> list[int]:
    """Greedy longest-match-first WordPiece, as BERT defines it."""
    unknown = vocab[tokenizer.oov_token]
    ids = []
    for word in words:
        if len(word.encode("utf-8")) > 100:
            ids.append(unknown)
            continue
        start, pieces = 0, []
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else tokenizer.suffix_indicator + word[start:end]
                if piece in vocab:
                    pieces.append(vocab[piece])
                    break
                end -= 1
            if end == start:
                pieces = [unknown]
                break
            start = end
        ids.extend(pieces)
    return ids


def _keras_hub_ids(model, texts) -> list[list[int]]:
    tokens = model.preprocessor.tokenizer(np.asarray(list(texts), dtype=object))
    if hasattr(tokens, "to_list"):
        return [list(map(int, row)) for row in tokens.to_list()]
    return [list(map(int, row)) for row in tokens]


def _mismatches(texts, matches) -> dict:
    mismatched = [t for t, ok in zip(texts, matches) if not ok]
    return {"texts": mismatched, "count": len(mismatched), "classes": mismatch_classes(mismatched)}


def tokenization_parity(model, texts=PARITY_TEXTS, in_graph: dict | None = None) -> dict:
    """Compare token ids from keras-hub, the edge library and (optionally) an artifact.

    Args:
        model: the classifier whose tokenizer is the reference.
        texts: texts to tokenise.
        in_graph: packed ids from an artifact's in-graph tokenizer (`token_ids`,
            `segment_ids`, `padding_mask`), compared with keras-hub's preprocessor output.

    Returns:
        A dict with `identical` (bool) and, per comparison, the mismatching texts and how
        many fall in each class of the suite.
    """
    texts = list(texts)
    reference = _keras_hub_ids(model, texts)
    library, library_ids = _edge_library_ids(model, texts)
    library_mismatch = _mismatches(texts, [a == b for a, b in zip(reference, library_ids)])
    report = {
        "texts": len(texts),
        "edge_library": library,
        "edge_library_identical": not library_mismatch["count"],
        "edge_library_mismatches": library_mismatch["texts"],
        "edge_library_mismatch_classes": library_mismatch["classes"],
    }
    identical = not library_mismatch["count"]
    if in_graph is not None:
        packed = pack_texts(model, texts)
        rows = np.ones(len(texts), dtype=bool)
        for name in TOKEN_INPUT_NAMES:
            rows &= np.all(np.asarray(in_graph[name]).astype(packed[name].dtype) == packed[name],
                           axis=1)
        mismatch = _mismatches(texts, rows)
        report.update(in_graph_identical=not mismatch["count"],
                      in_graph_mismatches=mismatch["texts"],
                      in_graph_mismatch_classes=mismatch["classes"])
        identical = identical and not mismatch["count"]
    report["identical"] = identical
    return report


def tflite_parity(model, artifact, mode: str, texts=None) -> dict:
    """Output (and, for raw-text models, tokenisation) parity of a TFLite artifact.

    Args:
        model: the Keras classifier the artifact was exported from.
        artifact: the `.tflite` file, or its bytes (checked before anything is written).
        mode: the artifact's mode (sets the output tolerance).
        texts: texts to compare on (default `PARITY_TEXTS`).
    """
    from albert_tf.deploy.tflite_runner import TFLiteRunner

    texts = list(PARITY_TEXTS if texts is None else texts)
    runner = TFLiteRunner(artifact)
    pairs = list(reversed(texts)) if runner.takes_pairs else None
    packed = pack_texts(model, texts, pairs)
    reference = keras_probabilities(model, packed)
    if runner.takes_text:
        actual = runner.predict_texts(texts, pairs)
    else:
        actual = runner.predict_packed(packed)
    report = {"outputs": output_parity(reference, actual, mode)}
    if runner.takes_text:
        report["tokenization"] = _in_graph_tokenization(model, texts, pairs,
                                                        runner.encode_texts(texts, pairs))
    return report


def _in_graph_tokenization(model, texts, pairs, in_graph) -> dict:
    """Tokenisation parity of an artifact's `encode` output on `texts` (and `pairs`)."""
    if pairs is None:
        return tokenization_parity(model, texts, in_graph)
    expected = pack_texts(model, texts, pairs)
    same = all(np.array_equal(np.asarray(in_graph[n]).astype(expected[n].dtype), expected[n])
               for n in TOKEN_INPUT_NAMES)
    # Each segment alone through the artifact is not available: check the texts and the
    # pairs through keras-hub and the edge library, and the packed pairs as a whole.
    report = {**tokenization_parity(model, texts + pairs), "pairs_packed_identical": same}
    report["identical"] &= same
    return report


def saved_model_parity(model, folder, mode: str, text_pairs: bool = False, texts=None,
                       label_names=None) -> dict:
    """Output and tokenisation parity of a SavedModel's signatures with the Keras model.

    Args:
        model: the Keras classifier the SavedModel was exported from.
        folder: the SavedModel (version) folder.
        mode: "float32", or "keras-int8" for Keras int8 weights (errors only reported).
        text_pairs: the text signature takes `text_pair` as well.
        texts: texts to compare on (default `PARITY_TEXTS`).
        label_names: the class names the SavedModel was exported with.
    """
    import tensorflow as tf

    texts = list(PARITY_TEXTS if texts is None else texts)
    pairs = list(reversed(texts)) if text_pairs else None
    loaded = tf.saved_model.load(str(folder))
    packed = pack_texts(model, texts, pairs)
    reference = keras_probabilities(model, packed)
    text_inputs = {"text": tf.constant(texts)}
    if pairs is not None:
        text_inputs["text_pair"] = tf.constant(pairs)
    from_text = loaded.signatures["serving_default"](**text_inputs)
    from_tokens = loaded.signatures["tokens"](
        **{name: tf.constant(packed[name]) for name in TOKEN_INPUT_NAMES})
    names = list(classifier_spec(model, label_names).label_names)
    probabilities = from_text["probabilities"].numpy()
    labels = [label.decode("utf-8") for label in from_text["label"].numpy()]
    report = {
        "serving_default": output_parity(reference, probabilities, mode),
        "tokens": output_parity(reference, from_tokens["probabilities"].numpy(), mode),
        "labels_match_probabilities": labels == [names[i] for i in probabilities.argmax(-1)],
    }
    if "encode" in loaded.signatures:
        encoded = loaded.signatures["encode"](**text_inputs)
        in_graph = {name: encoded[name].numpy() for name in TOKEN_INPUT_NAMES}
        report["tokenization"] = _in_graph_tokenization(model, texts, pairs, in_graph)
    else:
        report["tokenization"] = tokenization_parity(model, texts + (pairs or []))
    return report


def parity_failures(report: dict, checks=GATED_CHECKS) -> list[str]:
    """What an artifact's parity report failed, one line each (empty: it passed).

    Args:
        report: a parity report (`tflite_parity`, `saved_model_parity`, or a dict of them).
        checks: the report entries that must be True.
    """
    failures = []

    def visit(node: dict, where: str):
        for key, value in node.items():
            if isinstance(value, dict):
                visit(value, f"{where}{key} ")
            elif key in checks and value is False:
                failures.append(where + _describe_failure(key, node))

    visit(report, "")
    return failures


def _classes(node: dict, check: str) -> str:
    """`name count, ...` of a check's mismatching texts by class (`<check>_mismatch_classes`)."""
    return ", ".join(f"{name} {count}" for name, count in
                     sorted(node[f"{check}_mismatch_classes"].items()))


def _describe_failure(key: str, node: dict) -> str:
    if key == "within_tolerance":
        return (f"outputs differ from the Keras model by up to {node['max_abs_error']:.2e} "
                f"(tolerance {node['tolerance']:g}) on {node['texts']} texts")
    if key == "in_graph_identical":
        return (f"in-graph token ids differ from keras-hub's on {len(node['in_graph_mismatches'])}"
                f" of {node['texts']} texts ({_classes(node, 'in_graph')})")
    if key == "edge_library_identical":
        return (f"{node['edge_library']} token ids differ from keras-hub's on "
                f"{len(node['edge_library_mismatches'])} of {node['texts']} texts "
                f"({_classes(node, 'edge_library')})")
    if key == "word_split_identical":
        return (f"the edge kit's words differ from split_words' on "
                f"{len(node['word_split_mismatches'])} of {node['texts']} texts")
    if key == "edge_tokens_identical":
        return (f"the edge kit's token ids or word starts differ from the tagger's alignment on "
                f"{len(node['edge_tokens_mismatches'])} of {node['texts']} texts "
                f"({_classes(node, 'edge_tokens')})")
    if key == "pairs_packed_identical":
        return "packed text pairs differ from keras-hub's preprocessor"
    return f"{key} is False"


def enforce_parity(report: dict, artifact: str, allow_mismatch: bool = False,
                   checks=GATED_CHECKS) -> dict:
    """The export gate: raise `ParityError` when the parity report fails, unless allowed.

    Records the verdict in `report` (`passed`, `failures`, `mismatch_allowed`) and returns it.

    Args:
        report: the artifact's parity report (changed in place).
        artifact: what was exported, for the message.
        allow_mismatch: record the failures instead of raising.
        checks: the report entries that must be True.
    """
    failures = parity_failures(report, checks)
    report.update(passed=not failures, failures=failures,
                  mismatch_allowed=bool(failures and allow_mismatch))
    if failures and not allow_mismatch:
        raise ParityError(f"{artifact}: parity check failed, nothing written: "
                          + "; ".join(failures)
                          + " (--allow-mismatch writes it anyway and records the mismatch)")
    if failures:
        logger.warning("%s: parity mismatch allowed and recorded: %s", artifact,
                       "; ".join(failures))
    return report
