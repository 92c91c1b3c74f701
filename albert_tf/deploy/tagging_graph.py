"""A token classifier as TensorFlow functions: what its exported artifacts take and give.

Beside `classifier_graph` (a text classifier): the TFLite converter (`tflite_export`) and the
SavedModel writer (`saved_model_export`) are the same for both tasks; this module holds what a
tagger's artifacts do differently.

* TFLite: packed token ids in, per-token tag probabilities `[batch, sequence_length, tags]`
  out (`classifier_graph.probabilities_function` already gives per-token rows for a tagger);
  `tflite_word_predictions` reads each word's first sub-token, `tagger_tflite_parity` checks
  a file word by word.
* SavedModel: raw UTF-8 sentences in, word-level tags out (`word_tagging_function`): it splits
  words (`split_words`), tokenises each word with the model's SentencePiece op, aligns, runs
  the model and reads each word's first sub-token.
"""

from __future__ import annotations

import logging

import numpy as np
import tensorflow as tf

from albert_tf.deploy.classifier_graph import probabilities_function
from albert_tf.errors import UserError
from albert_tf.text.token_pipeline import INPUT_NAMES, WordPredictions, gather_word_rows

logger = logging.getLogger(__name__)

# Calibrated modes need packed calibration texts, and raw text needs in-graph word splitting:
# neither exists for taggers yet.
TAGGER_TFLITE_MODES = ("float32", "float16", "dynamic-int8")
# Raw-text SavedModel input and outputs.
TEXT = "text"
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


def parity_words(sentences=PARITY_SENTENCES) -> list[list[str]]:
    """`sentences` split into words as the exported graphs split them."""
    return [[w.decode("utf-8") for w in s] for s in split_words(list(sentences)).to_list()]


def tagger_tflite_parity(tagger, artifact, mode: str, sentences=None) -> dict:
    """Word-level parity of a per-token tagger `.tflite` against the Keras tagger.

    Args:
        tagger: the Keras token classifier the artifact was exported from.
        artifact: the `.tflite` file, or its bytes (checked before anything is written).
        mode: the artifact's mode (float32 outputs must agree within `tolerance_for(mode)`).
        sentences: raw sentences to compare on (default `PARITY_SENTENCES`), split with
            `split_words`.

    Returns:
        `words`, `same_tag_fraction` (share of words tagged the same),
        `max_probability_difference`, `tolerance` and `within_tolerance`.
    """
    from albert_tf.deploy.parity import tolerance_for
    from albert_tf.deploy.tflite_runner import TFLiteRunner
    from albert_tf.text.token_pipeline import predict_words

    words = parity_words(PARITY_SENTENCES if sentences is None else sentences)
    keras_predictions = predict_words(tagger, words)
    lite = tflite_word_predictions(TFLiteRunner(artifact), tagger.preprocessor, words)
    same = [a == b for s, t in zip(keras_predictions.tag_ids, lite.tag_ids) for a, b in zip(s, t)]
    difference = max(float(np.abs(a - b).max()) if a.size else 0.0
                     for a, b in zip(keras_predictions.probabilities, lite.probabilities))
    tolerance = tolerance_for(mode)
    return {"words": len(same), "same_tag_fraction": float(np.mean(same)),
            "max_probability_difference": difference, "tolerance": tolerance,
            "within_tolerance": None if tolerance is None else difference <= tolerance}


def word_tagging_function(tagger, tag_names, network=None):
    """A traceable `text [batch] -> word-level outputs` function over the Keras tagger.

    Args:
        tagger: the token classifier with its preprocessor (word splitting and alignment).
        tag_names: tag names in id order.
        network: the model that runs (default `tagger`; e.g. its Keras int8 copy).
    """
    preprocessor = tagger.preprocessor
    preprocessor.word_tokenizer()  # created eagerly, outside the trace
    names = tf.constant([str(n) for n in tag_names])
    probabilities = probabilities_function(tagger if network is None else network)

    def tag_text(text):
        words = split_words(text)
        aligned = preprocessor.align(words)
        starts = aligned["word_starts"].to_tensor(default_value=-1)
        valid = starts >= 0
        rows = tf.gather(probabilities(*(aligned[name] for name in INPUT_NAMES)),
                         tf.maximum(starts, 0), batch_dims=1)
        ids = tf.argmax(rows, axis=-1, output_type=tf.int32)
        return {
            WORDS: words.to_tensor(default_value=""),
            TAGS: tf.where(valid, tf.gather(names, ids), ""),
            TAG_IDS: tf.where(valid, ids, -1),
            SCORES: tf.where(valid, tf.reduce_max(rows, axis=-1), 0.0),
            NUM_WORDS: tf.cast(words.row_lengths(), tf.int32),
        }

    return tag_text


def saved_model_word_parity(tagger, folder, sentences=None) -> dict:
    """Share of words the SavedModel's `serving_default` tags as the Keras tagger does."""
    from albert_tf.text.token_pipeline import predict_words

    sentences = list(PARITY_SENTENCES if sentences is None else sentences)
    served = tf.saved_model.load(str(folder)).signatures["serving_default"]
    outputs = served(text=tf.constant(sentences))
    expected = predict_words(tagger, parity_words(sentences))
    same = [int(outputs[TAG_IDS][i, j]) == tag
            for i, sentence in enumerate(expected.tag_ids) for j, tag in enumerate(sentence)]
    return {"words": len(same), "same_tag_fraction": float(np.mean(same))}


def tagger_serving_graph(tagger, network, tag_names=None):
    """A tagger's SavedModel signature for `saved_model_export.export_saved_model`:
    `serving_default` takes `text` (`[batch]` strings) and returns `words` and `tags`
    (`[batch, max words]` strings, "" past each sentence's end and for words cut off by the
    sequence length), `tag_ids` (-1 there), `scores` (the tag's probability) and `num_words`.

    Args:
        tagger: the token classifier with its preprocessor.
        network: the model that is saved (`tagger`, or its Keras int8 copy).
        tag_names: tag names in id order (default the ids).
    """
    import keras

    from albert_tf.deploy.saved_model_export import ServingGraph
    from albert_tf.deploy.serving_warmup import predict_log

    names = [str(n) for n in (tag_names if tag_names is not None
                              else range(tagger.num_classes))]
    if len(names) != tagger.num_classes:
        raise UserError(f"{len(names)} tag names for a {tagger.num_classes}-tag model")

    def archive():
        built = keras.export.ExportArchive()
        built.track(network)
        built.track(tagger.preprocessor.word_tokenizer())  # the SentencePiece op's resource
        built.add_endpoint("serving_default", word_tagging_function(tagger, names, network),
                           input_signature=[tf.TensorSpec([None], tf.string, name=TEXT)])
        return built

    def warmup_logs(model_name, texts):  # each sentence alone, then all of them as one batch
        texts = [str(t) for t in texts]
        batches = [[t] for t in texts] + ([texts] if len(texts) > 1 else [])
        return [predict_log(model_name, "serving_default",
                            {TEXT: np.asarray(batch, dtype=object)}) for batch in batches]

    return ServingGraph(
        archive=archive, warmup_logs=warmup_logs,
        parity=lambda folder, mode, texts: saved_model_word_parity(tagger, folder, texts),
        signatures={"serving_default": [TEXT]},
        outputs=[WORDS, TAGS, TAG_IDS, SCORES, NUM_WORDS],
        description={"sequence_length": int(tagger.preprocessor.sequence_length),
                     "num_classes": int(tagger.num_classes), "label_names": names},
        warmup_texts=PARITY_SENTENCES)
