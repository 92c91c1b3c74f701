"""The in-graph text encoder packs exactly like keras-hub's preprocessors (singles and pairs,
both truncation rules, SentencePiece and WordPiece), on awkward and real texts."""

import collections
import re

import numpy as np
import pytest

from albert_tf.deploy.parity import PARITY_TEXTS, tokenization_parity
from albert_tf.deploy.text_encoder import InGraphTextEncoder


def _encode(encoder, texts, pairs=None):
    import tensorflow as tf

    if pairs is None:
        function = tf.function(lambda t: encoder.encode(t))
        return {k: v.numpy() for k, v in function(tf.constant(texts)).items()}
    function = tf.function(lambda t, p: encoder.encode(t, p))
    return {k: v.numpy() for k, v in function(tf.constant(texts), tf.constant(pairs)).items()}


def _reference(model, texts, pairs=None):
    x = (np.asarray(texts, dtype=object),) if pairs is None else \
        (np.asarray(texts, dtype=object), np.asarray(pairs, dtype=object))
    packed = model.preprocessor(x=x)
    return {k: np.asarray(v).astype(np.int32) for k, v in packed.items()}


@pytest.mark.parametrize("target", ["saved_model", "tflite"])
@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_sentencepiece_packing_matches_keras_hub(albert_tokenizer, tiny_albert_factory, splits,
                                                 target, truncate):
    model = tiny_albert_factory(albert_tokenizer, 2, truncate=truncate)
    texts = list(PARITY_TEXTS) + list(splits[2].texts[:20])
    pairs = list(reversed(texts))  # long with short, empty with long: all truncation cases
    encoder = InGraphTextEncoder(model, target=target)
    for second in (None, pairs):
        got = _encode(encoder, texts, second)
        expected = _reference(model, texts, second)
        for name in ("token_ids", "segment_ids", "padding_mask"):
            np.testing.assert_array_equal(got[name], expected[name], err_msg=f"{name} {second is None}")


@pytest.fixture(scope="module")
def tiny_bert(splits):
    """A tiny BERT classifier with a WordPiece vocabulary built from the training texts."""
    import keras_hub

    train = splits[0]
    words = collections.Counter(w for t in train.texts for w in re.findall(r"\w+", t.lower()))
    chars = sorted({c for t in train.texts for c in t.lower() if not c.isspace()})
    vocabulary = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars
                  + ["##" + c for c in chars if c.isalnum()]
                  + [w for w, _ in words.most_common(400) if w not in chars])
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True,
                                               strip_accents=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=32)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=len(vocabulary), num_layers=1,
                                             num_heads=2, hidden_dim=32, intermediate_dim=64,
                                             max_sequence_length=32)
    return keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor)


def test_wordpiece_saved_model_encoder_is_keras_hub_exactly(tiny_bert, splits):
    texts = list(PARITY_TEXTS) + list(splits[2].texts[:20])
    pairs = list(reversed(texts))
    encoder = InGraphTextEncoder(tiny_bert, target="saved_model")
    for second in (None, pairs):
        got = _encode(encoder, texts, second)
        expected = _reference(tiny_bert, texts, second)
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name])


def test_wordpiece_tflite_encoder_matches_on_plain_text(tiny_bert, splits):
    encoder = InGraphTextEncoder(tiny_bert, target="tflite")
    texts = [t for t in splits[2].texts if t.isascii()][:30] + ["THE BEST MOVIE", "", "東京"]
    got = _encode(encoder, texts)
    expected = _reference(tiny_bert, texts)
    np.testing.assert_array_equal(got["token_ids"], expected["token_ids"])


def test_wordpiece_edge_library_parity_is_reported(tiny_bert, splits):
    texts = [t for t in splits[2].texts if t.isascii()][:30]
    report = tokenization_parity(tiny_bert, texts + list(PARITY_TEXTS))
    assert report["edge_library"].startswith("keras-hub pretokenize_python")
    assert report["edge_library_mismatches"] == [] and report["identical"]


def test_wordpiece_raw_text_tflite(tiny_bert, splits, tmp_path):
    from albert_tf.deploy import TFLiteRunner, export_tflite
    from albert_tf.deploy.classifier_graph import keras_probabilities, pack_texts

    report = export_tflite(tiny_bert, tmp_path / "bert_raw.tflite", raw_text=True,
                           parity_texts=["A gripping film.", "", "THE BEST MOVIE"])
    assert {"FastBertNormalize", "FastWordpieceTokenizeWithOffsets"} <= set(
        report["ops"]["custom_ops"])
    assert report["parity"]["outputs"]["within_tolerance"]
    texts = [t for t in splits[2].texts if t.isascii()][:10]
    got = TFLiteRunner(report["path"]).predict_texts(texts)
    expected = keras_probabilities(tiny_bert, pack_texts(tiny_bert, texts))
    assert np.abs(got - expected).max() <= 1e-4
