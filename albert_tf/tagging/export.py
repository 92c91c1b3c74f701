"""Deployable tagging artifacts.

* `export_tagger_tflite`: a `.tflite` file, packed token ids in, per-token tag probabilities
  `[batch, sequence_length, tags]` out (float32, float16 or dynamic-int8), built from the same
  frozen fixed-shape graph as the classification exports and runnable by `TFLiteRunner`.
* `export_word_tagger`: a SavedModel whose `serving_default` takes raw UTF-8 sentences and
  returns word-level tags: it splits words (`split_words`), tokenises each word with the
  model's SentencePiece op, aligns, runs the model and reads each word's first sub-token.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from albert_tf.errors import UserError
from albert_tf.tagging.pipeline import INPUT_NAMES, WordPredictions, gather_word_rows

logger = logging.getLogger(__name__)

TAGGER_TFLITE_MODES = ("float32", "float16", "dynamic-int8")
PROBABILITIES = "probabilities"
# Raw-text SavedModel outputs.
WORDS, TAGS, TAG_IDS, SCORES, NUM_WORDS = "words", "tags", "tag_ids", "scores", "num_words"
PARITY_SENTENCES = (
    "The jury praised the administration and operation of the Atlanta Police Department.",
    "She said, \"It's over\" (at last).",
    "Unbelievably, 42 antidisestablishmentarianists arrived yesterday!",
)


# One character that `split_words` makes a word of its own (RE2 syntax): Han characters, CJK
# symbols and punctuation (U+3000-303F), full-width forms (U+FF00-FFEF).
CJK_CHARACTER = r"([\p{Han}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}])"


def split_words(texts) -> tf.RaggedTensor:
    """Split raw sentences into words the way the Brown corpus and CoNLL files are tokenised:
    on whitespace, with closing punctuation (`.,;:!?)"`) at a word's end and opening `("` at
    its start split off as words of their own. Chinese characters, CJK punctuation and
    full-width forms are words of their own, as in character-level Chinese NER data
    (People's Daily), where text has no spaces.

    Args:
        texts: a 1-D string tensor or a list of strings.

    Returns:
        `[batch, (words)]` string RaggedTensor.

    Examples:
    >>> split_words(["Hello, world (again)."]).to_list()  # doctest: +SKIP
    [[b'Hello', b',', b'world', b'(', b'again', b')', b'.']]
    """
    texts = tf.convert_to_tensor(texts, dtype=tf.string)
    texts = tf.strings.regex_replace(texts, CJK_CHARACTER, r" \1 ")
    texts = tf.strings.regex_replace(texts, r'([^\s(".,;:!?)])([.,;:!?)"]+)(\s|$)', r"\1 \2\3")
    texts = tf.strings.regex_replace(texts, r'([.,;:!?)"])([.,;:!?)"])', r"\1 \2")
    texts = tf.strings.regex_replace(texts, r'([.,;:!?)"])([.,;:!?)"])', r"\1 \2")
    texts = tf.strings.regex_replace(texts, r'(^|\s)([("]+)([^\s])', r"\1\2 \3")
    texts = tf.strings.regex_replace(texts, r'([("])([("])', r"\1 \2")
    return tf.strings.split(texts)


def _signature(sequence_length: int, batch_size):
    return [tf.TensorSpec([batch_size, sequence_length], tf.int32, name=name)
            for name in INPUT_NAMES]


def _probabilities_function(tagger):
    def probabilities(token_ids, segment_ids, padding_mask):
        logits = tagger({"token_ids": token_ids, "segment_ids": segment_ids,
                         "padding_mask": padding_mask}, training=False)
        return {PROBABILITIES: tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)}

    return probabilities


def _write_atomic(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return path


def convert_tagger_to_tflite(tagger, mode: str = "float32", batch_size: int = 1) -> bytes:
    """TFLite bytes of `tagger` with fixed `[batch_size, sequence_length]` token inputs.

    Args:
        tagger: an `AlbertTokenClassifier` with its preprocessor.
        mode: one of `TAGGER_TFLITE_MODES`.
        batch_size: fixed batch size of the signature.
    """
    from albert_tf.deploy.frozen_graph import frozen_function

    if mode not in TAGGER_TFLITE_MODES:
        raise UserError(f"unknown tagger TFLite mode {mode!r}: expected one of "
                        f"{', '.join(TAGGER_TFLITE_MODES)}")
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1. Received: {batch_size}")
    signature = _signature(tagger.preprocessor.sequence_length, batch_size)
    # Frozen, fixed shapes: no variables and no shape arithmetic in the converted graph.
    concrete, _ = frozen_function(_probabilities_function(tagger), signature)
    module = tf.Module()
    module.serve = tf.function(lambda *args: concrete(*args), input_signature=signature)
    with tempfile.TemporaryDirectory(prefix="albert_tf_tag_tflite_") as tmp:
        tf.saved_model.save(module, tmp, signatures={"serving_default": module.serve})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, ["serving_default"])
        if mode in ("float16", "dynamic-int8"):
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return converter.convert()


def tflite_word_predictions(runner, preprocessor, words: list[list[str]],
                            chunk: int = 256) -> WordPredictions:
    """Word-level predictions of a tagger `.tflite` (through `TFLiteRunner`).

    Args:
        runner: `albert_tf.deploy.TFLiteRunner` over the file.
        preprocessor: the tagger's preprocessor (alignment and word starts).
        words: one list of words per sentence.
        chunk: sentences aligned at a time.
    """
    tag_ids, rows = [], []
    for start in range(0, len(words), chunk):
        aligned = preprocessor.align(words[start:start + chunk])
        packed = {name: aligned[name].numpy() for name in INPUT_NAMES}
        ids, picked = gather_word_rows(runner.predict_packed(packed),
                                       aligned["word_starts"].to_list())
        tag_ids += ids
        rows += picked
    return WordPredictions(tag_ids, rows)


def export_tagger_tflite(tagger, path, mode: str = "float32", *, tag_names=None,
                         batch_size: int = 1, parity_words=None) -> dict:
    """Write a per-token `.tflite` tagger (atomically) and describe it in `<path>.json`.

    Args:
        tagger: an `AlbertTokenClassifier` with its preprocessor.
        path: the `.tflite` file.
        mode: float32, float16 or dynamic-int8.
        tag_names: tag names in id order (recorded in the report).
        batch_size: fixed batch size of the signature.
        parity_words: sentences (word lists) on which the file is run and compared with the
            Keras model (default: `PARITY_SENTENCES` split into words).

    Returns:
        A JSON-serialisable dict: path, size, sha256, ops, shapes and the parity report
        (largest probability difference, share of words tagged the same).
    """
    from albert_tf.deploy import TFLiteRunner, describe_ops
    from albert_tf.json_files import write_json
    from albert_tf.tagging.pipeline import predict_words

    content = convert_tagger_to_tflite(tagger, mode, batch_size)
    path = _write_atomic(Path(path), content)
    words = parity_words or [[w.decode() for w in s] for s in
                             split_words(list(PARITY_SENTENCES)).to_list()]
    keras_predictions = predict_words(tagger, words)
    runner = TFLiteRunner(path)
    lite = tflite_word_predictions(runner, tagger.preprocessor, words)
    same = [a == b for s, t in zip(keras_predictions.tag_ids, lite.tag_ids) for a, b in zip(s, t)]
    difference = max(float(np.abs(a - b).max()) if a.size else 0.0
                     for a, b in zip(keras_predictions.probabilities, lite.probabilities))
    report = {
        "artifact": "tflite-tagger",
        "path": str(path),
        "mode": mode,
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "inputs": {name: [batch_size, tagger.preprocessor.sequence_length]
                   for name in INPUT_NAMES},
        "output": {PROBABILITIES: [batch_size, tagger.preprocessor.sequence_length,
                                   tagger.num_classes]},
        "tag_names": list(tag_names) if tag_names is not None else None,
        "ops": describe_ops(content),
        "parity": {"words": len(same), "same_tag_fraction": float(np.mean(same)),
                   "max_probability_difference": difference},
    }
    write_json(report, path.with_name(path.name + ".json"))
    logger.info("wrote %s (%s, %.1f kB)", path, mode, len(content) / 1024)
    return report


def word_tagging_function(tagger, tag_names):
    """A traceable `text [batch] -> word-level outputs` function over the Keras tagger."""
    preprocessor = tagger.preprocessor
    preprocessor.word_tokenizer()  # created eagerly, outside the trace
    names = tf.constant([str(n) for n in tag_names])

    def tag_text(text):
        words = split_words(text)
        aligned = preprocessor.align(words)
        logits = tagger({name: aligned[name] for name in INPUT_NAMES}, training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        starts = aligned["word_starts"].to_tensor(default_value=-1)
        valid = starts >= 0
        rows = tf.gather(probabilities, tf.maximum(starts, 0), batch_dims=1)
        ids = tf.argmax(rows, axis=-1, output_type=tf.int32)
        return {
            WORDS: words.to_tensor(default_value=""),
            TAGS: tf.where(valid, tf.gather(names, ids), ""),
            TAG_IDS: tf.where(valid, ids, -1),
            SCORES: tf.where(valid, tf.reduce_max(rows, axis=-1), 0.0),
            NUM_WORDS: tf.cast(words.row_lengths(), tf.int32),
        }

    return tag_text


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def export_word_tagger(tagger, folder, tag_names, texts=PARITY_SENTENCES) -> dict:
    """A raw-text SavedModel that returns word-level tags (written to a temporary folder,
    then renamed into place).

    Its `serving_default` takes `text` (`[batch]` strings) and returns `words` and `tags`
    (`[batch, max words]` strings, "" past each sentence's end and for words cut off by the
    sequence length), `tag_ids` (-1 there), `scores` (the tag's probability) and `num_words`.

    Args:
        tagger: an `AlbertTokenClassifier` with its preprocessor.
        folder: the SavedModel folder to write.
        tag_names: tag names in id order.
        texts: sentences run through the saved model and compared with the Keras tagger.

    Returns:
        A dict with the folder, size, and the parity check (share of words tagged the same).
    """
    import keras

    from albert_tf.json_files import write_json
    from albert_tf.tagging.pipeline import predict_words

    if len(tag_names) != tagger.num_classes:
        raise UserError(f"{len(tag_names)} tag names for a {tagger.num_classes}-tag model")
    folder = Path(folder)
    archive = keras.export.ExportArchive()
    archive.track(tagger)
    archive.track(tagger.preprocessor.word_tokenizer())  # the SentencePiece op's resource
    archive.add_endpoint("serving_default", word_tagging_function(tagger, tag_names),
                         input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    archive.write_out(str(tmp), verbose=False)
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)

    served = tf.saved_model.load(str(folder)).signatures["serving_default"]
    outputs = served(text=tf.constant(list(texts)))
    words = [[w.decode() for w in s] for s in split_words(list(texts)).to_list()]
    expected = predict_words(tagger, words)
    same = [int(outputs[TAG_IDS][i, j]) == tag
            for i, sentence in enumerate(expected.tag_ids) for j, tag in enumerate(sentence)]
    report = {
        "artifact": "saved-model-word-tagger",
        "path": str(folder),
        "size_bytes": _folder_size(folder),
        "signature": {"inputs": {"text": "string [batch]"},
                      "outputs": {WORDS: "string [batch, words]", TAGS: "string [batch, words]",
                                  TAG_IDS: "int32 [batch, words]", SCORES: "float32 [batch, words]",
                                  NUM_WORDS: "int32 [batch]"}},
        "tag_names": [str(n) for n in tag_names],
        "parity": {"words": len(same), "same_tag_fraction": float(np.mean(same))},
    }
    write_json(report, folder.with_name(folder.name + ".json"))
    return report
