"""Parity checks: does an artifact compute what the Keras model computes, on awkward text?

Two kinds of checks, both run on `PARITY_TEXTS` (empty, very long, emoji, CJK, accented,
mixed-case, special-token look-alikes) unless other texts are given:

* output parity: the artifact's class probabilities against the Keras model's on the same
  texts; float32 artifacts must agree within `FLOAT32_TOLERANCE`, the quantized modes have no
  fixed bound and their errors (and how often the predicted class changes) are reported;
* tokenisation parity: ids from keras-hub's tokenizer, from the library an edge kit uses
  without TensorFlow (`sentencepiece` for SentencePiece vocabularies, Hugging Face `tokenizers`
  for WordPiece ones, falling back to keras-hub's pure-Python WordPiece when `tokenizers` is
  not installed), and from the artifact's own in-graph tokenizer must be identical.
"""

from __future__ import annotations

import logging

import numpy as np

from albert_tf.deploy.classifier_graph import (
    TOKEN_INPUT_NAMES,
    classifier_spec,
    keras_probabilities,
    pack_texts,
)

logger = logging.getLogger(__name__)

FLOAT32_TOLERANCE = 1e-4

PARITY_TEXTS = (
    "",
    "A gripping, beautifully acted film.",
    "Terrible. Just terrible!!!",
    "THE BEST MOVIE I HAVE SEEN THIS YEAR",
    "   \t  leading and trailing   whitespace   ",
    "10/10, would watch again (2024) -- $12.50 well spent",
    "I loved it 😍🔥👏 and my kids did too 👨‍👩‍👧",
    "这部电影非常好看，演员的表演也很出色。",
    "映画はとても面白かったです",
    "정말 재미있는 영화였어요",
    "Un film très réussi : naïf, émouvant, café-crème et crème brûlée.",
    "ÀÉÎÕÜ Straße Ærøskøbing İstanbul",
    "Ωραία ταινία, πολύ συγκινητική",
    "فيلم رائع جدا",
    "ﬁne ligatures and ｆｕｌｌｗｉｄｔｈ letters ①②",
    "[CLS] special [SEP] tokens <pad> [MASK] written in the text",
    " ".join(["An overlong review that keeps going and going about every scene of the film."]
             * 40),
)


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
    try:
        from tokenizers import BertWordPieceTokenizer
    except ImportError:
        # keras-hub's pure-Python WordPiece path: the same algorithm, no TensorFlow ops.
        from keras_hub.src.tokenizers.word_piece_tokenizer import pretokenize_python

        vocab = {piece: i for i, piece in enumerate(tokenizer.get_vocabulary())}
        ids = []
        for text in texts:
            words = pretokenize_python(text, tokenizer.lowercase, tokenizer.strip_accents)
            ids.append(_python_wordpiece(words, vocab, tokenizer))
        return "keras-hub pretokenize_python + WordPiece (python)", ids
    wordpiece = BertWordPieceTokenizer(
        {piece: i for i, piece in enumerate(tokenizer.get_vocabulary())},
        lowercase=bool(tokenizer.lowercase), strip_accents=bool(tokenizer.strip_accents),
        unk_token=tokenizer.oov_token, wordpieces_prefix=tokenizer.suffix_indicator,
        handle_chinese_chars=bool(getattr(tokenizer, "split_on_cjk", True)))
    encodings = wordpiece.encode_batch(list(texts), add_special_tokens=False)
    return "tokenizers (Hugging Face)", [list(e.ids) for e in encodings]


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


def tokenization_parity(model, texts=PARITY_TEXTS, in_graph: dict | None = None) -> dict:
    """Compare token ids from keras-hub, the edge library and (optionally) an artifact.

    Args:
        model: the classifier whose tokenizer is the reference.
        texts: texts to tokenise.
        in_graph: packed ids from an artifact's in-graph tokenizer (`token_ids`,
            `segment_ids`, `padding_mask`), compared with keras-hub's preprocessor output.

    Returns:
        A dict with `identical` (bool) and, per comparison, the mismatching texts.
    """
    texts = list(texts)
    reference = _keras_hub_ids(model, texts)
    library, library_ids = _edge_library_ids(model, texts)
    library_mismatch = [t for t, a, b in zip(texts, reference, library_ids) if a != b]
    report = {
        "texts": len(texts),
        "edge_library": library,
        "edge_library_identical": not library_mismatch,
        "edge_library_mismatches": library_mismatch,
    }
    identical = not library_mismatch
    if in_graph is not None:
        packed = pack_texts(model, texts)
        rows = np.ones(len(texts), dtype=bool)
        for name in TOKEN_INPUT_NAMES:
            rows &= np.all(np.asarray(in_graph[name]).astype(packed[name].dtype) == packed[name],
                           axis=1)
        mismatch = [t for t, ok in zip(texts, rows) if not ok]
        report.update(in_graph_identical=not mismatch, in_graph_mismatches=mismatch)
        identical = identical and not mismatch
    report["identical"] = identical
    return report


def tflite_parity(model, path, mode: str, texts=None) -> dict:
    """Output (and, for raw-text models, tokenisation) parity of a `.tflite` artifact.

    Args:
        model: the Keras classifier the artifact was exported from.
        path: the `.tflite` file.
        mode: the artifact's mode (sets the output tolerance).
        texts: texts to compare on (default `PARITY_TEXTS`).
    """
    from albert_tf.deploy.tflite_runner import TFLiteRunner

    texts = list(PARITY_TEXTS if texts is None else texts)
    runner = TFLiteRunner(path)
    pairs = list(reversed(texts)) if runner.takes_pairs else None
    packed = pack_texts(model, texts, pairs)
    reference = keras_probabilities(model, packed)
    if runner.takes_text:
        actual = runner.predict_texts(texts, pairs)
    else:
        actual = runner.predict_packed(packed)
    report = {"outputs": output_parity(reference, actual, mode)}
    if runner.takes_text:
        in_graph = runner.encode_texts(texts, pairs)
        if pairs is None:
            report["tokenization"] = tokenization_parity(model, texts, in_graph)
        else:
            expected = pack_texts(model, texts, pairs)
            same = all(np.array_equal(np.asarray(in_graph[n]).astype(expected[n].dtype),
                                      expected[n]) for n in TOKEN_INPUT_NAMES)
            report["tokenization"] = {**tokenization_parity(model, texts + pairs),
                                      "pairs_packed_identical": same}
            report["tokenization"]["identical"] &= same
    return report


def saved_model_parity(model, folder, mode: str, text_pairs: bool = False, texts=None,
                       label_names=None) -> dict:
    """Output parity of both SavedModel signatures (raw text and tokens) with the Keras model.

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
    return {
        "serving_default": output_parity(reference, probabilities, mode),
        "tokens": output_parity(reference, from_tokens["probabilities"].numpy(), mode),
        "labels_match_probabilities": labels == [names[i] for i in probabilities.argmax(-1)],
        "tokenization": tokenization_parity(model, texts + (pairs or [])),
    }
