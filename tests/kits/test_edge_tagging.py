"""The edge kit tags words from a tagging bundle (`export/edge/tag.py`) exactly as albert_tf's
Keras tagger does on the same words: SentencePiece and WordPiece taggers (tiny, random), with
accents, punctuation, CJK characters, a sentence longer than the sequence and the empty one."""

import json
import random
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from kit_helpers import EDGE_KIT, load_kit_module, read_json_output, run_kit

from albert_tf.errors import ParityError

TAGS = ["NOUN", "VERB", "DET", ".", "X"]
SEQUENCE_LENGTH = 16
SENTENCES = [
    "The jury praised the café's naïve owner.",
    'She said, "It\'s over" (at last)!',
    "我爱北京。东京很大",
    "Ünïcödé façade: déjà vu?",
    "",
    "the jury " * 12,  # 24 words, more sub-tokens than the sequence holds
    "tab\tand\u00a0nbsp\u3000ideographic, zero\u200bwidth \x00 nul",
]
WORDPIECE_VOCABULARY = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "jury", "praised", "cafe", "naive",
    "owner", "she", "said", "it", "over", "at", "last", "s", "un", "##ic", "##ode", "facade",
    "deja", "vu", "tab", "and", "##s", ",", ".", "!", "?", "(", ")", '"', "'", ":", "我", "爱",
    "北", "京", "。", "东", "大",
]


def _randomized(model, seed):
    """Every weight random (layer-norm scales near 1, offsets 0 so no tag wins everywhere), so
    tags differ from word to word."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        values = rng.normal(0.0, 0.5, variable.shape) + (1.0 if "gamma" in variable.path else 0)
        values *= "bias" not in variable.path and "beta" not in variable.path
        variable.assign(values.astype(variable.dtype))
    return model


@pytest.fixture(scope="module")
def tag_kit():
    """`export/edge/tag.py` imported as a module."""
    return load_kit_module(EDGE_KIT / "tag.py", "edge_kit_tag")


@pytest.fixture(scope="module")
def sentencepiece_tagger(sentencepiece_model):
    import keras

    from albert_tf.tagging.model import build_token_classifier

    keras.utils.set_random_seed(0)
    tagger = build_token_classifier(
        dict(num_layers=1, num_heads=2, embedding_dim=16, hidden_dim=32, intermediate_dim=64),
        len(TAGS), tokenizer=sentencepiece_model, sequence_length=SEQUENCE_LENGTH)
    return _randomized(tagger, 0)


@pytest.fixture(scope="module")
def wordpiece_tagger():
    import keras
    import keras_hub

    from albert_tf.tagging.model import BertTokenClassifier
    from albert_tf.tagging.preprocessor import BertTokenClassifierPreprocessor

    keras.utils.set_random_seed(1)
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=WORDPIECE_VOCABULARY, lowercase=True,
                                               strip_accents=True)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(WORDPIECE_VOCABULARY), num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=SEQUENCE_LENGTH)
    preprocessor = BertTokenClassifierPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH)
    tagger = BertTokenClassifier(backbone, num_classes=len(TAGS), preprocessor=preprocessor)
    return _randomized(tagger, 1)


@pytest.fixture(scope="module")
def tag_bundles(sentencepiece_tagger, wordpiece_tagger, tmp_path_factory):
    """`{kind: kit.json report}`: a float32 SentencePiece bundle (through `write_edge_bundle`,
    which hands token classifiers on) and a dynamic-int8 WordPiece one."""
    from albert_tf.deploy.kit_bundle import write_edge_bundle, write_tagging_bundle

    folder = tmp_path_factory.mktemp("tag_bundles")
    return {
        "sentencepiece": write_edge_bundle(sentencepiece_tagger, folder / "spm",
                                           label_names=TAGS),
        "wordpiece": write_tagging_bundle(wordpiece_tagger, folder / "wordpiece",
                                          mode="dynamic-int8", tag_names=TAGS),
    }


def _keras_words(texts):
    from albert_tf.deploy.tagging_graph import split_words

    return [[w.decode("utf-8") for w in s] for s in split_words(list(texts)).to_list()]


def test_split_words_matches_tensorflow(tag_kit):
    from albert_tf.deploy.parity import PARITY_TEXTS

    rng = random.Random(0)
    alphabet = list('ab .,;:!?)"(\t\n\v\f\r\u00a0\u3000\u3001我\uff01\u2028\u0085\u200b é') + [
        "\U0002ceb0", "\U0002ebf0", "\u2e80", "\u303b"]
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(1500)]
    texts = SENTENCES + list(PARITY_TEXTS) + fuzz
    assert [tag_kit.split_words(text) for text in texts] == _keras_words(texts)
    assert tag_kit.split_words("(Hello, world)...") == ["(", "Hello", ",", "world", ")", ".", ".",
                                                        "."]


@pytest.mark.parametrize("lowercase", [True, False])
def test_fast_bert_words_match_tf_text_on_every_bmp_character(tag_kit, tmp_path, lowercase):
    # Characters Python's Unicode tables leave unassigned are left out: tf_text's ICU is newer.
    import tensorflow as tf
    import tensorflow_text as tf_text

    common = sys.modules["kit_common"]
    chars = [chr(c) for c in range(0x20, 0x10000) if not 0xD800 <= c <= 0xDFFF
             and unicodedata.category(chr(c)) != "Cn"]
    pieces = sorted({p for c in chars for p in common._fast_bert_char(c, lowercase)
                     if not p.isspace()} | set("ab"))
    vocabulary = ["[PAD]", "[UNK]", *pieces, *("##" + p for p in pieces)]
    (tmp_path / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    kit = common.WordPieceIds(tmp_path / "vocab.txt", {"pretokenizer": "fast-bert",
                                                       "lowercase": lowercase})
    reference = tf_text.FastBertTokenizer(vocab=vocabulary, token_out_type=tf.int32,
                                          lower_case_nfd_strip_accents=lowercase)
    words = ["a" + c + "b" for c in chars] + ["".join(chars[i:i + 7])
                                              for i in range(0, len(chars), 7)]
    expected = reference.tokenize(tf.constant(words)).to_list()
    assert [w for w, ids in zip(words, expected) if kit(w) != ids] == []


def test_tagging_bundle_holds_model_tokenizer_tags_and_kit_json(tag_bundles,
                                                                sentencepiece_tagger):
    report = tag_bundles["sentencepiece"]
    bundle = Path(report["path"])
    assert sorted(p.name for p in bundle.iterdir()) == [
        "kit.json", "model.tflite", "tag_names.json", "tokenizer.model"]
    assert not list(bundle.parent.glob(".*staging*"))
    kit = json.loads((bundle / "kit.json").read_text())
    assert kit["task"] == "token-classification" and kit["mode"] == "float32"
    assert kit["sequence_length"] == SEQUENCE_LENGTH and kit["num_classes"] == len(TAGS)
    assert kit["special_tokens"] == sentencepiece_tagger.preprocessor.special_token_ids()
    assert json.loads((bundle / "tag_names.json").read_text()) == TAGS
    parity = kit["parity"]
    assert parity["passed"] and parity["failures"] == [] and parity["texts"] == 237
    assert parity["same_tag_fraction"] == 1.0 and parity["max_abs_error"] <= 1e-4
    assert parity["words_cut_off"] > 0  # the suite's long texts exercise truncation

    wordpiece = tag_bundles["wordpiece"]
    assert wordpiece["tokenizer"] == {
        "kind": "wordpiece", "file": "vocab.txt", "pretokenizer": "fast-bert",
        "lowercase": True, "strip_accents": True, "suffix_indicator": "##", "oov_token": "[UNK]"}
    assert wordpiece["parity"]["passed"] and wordpiece["parity"]["within_tolerance"] is None
    assert wordpiece["parity"]["edge_tokens_identical"] is True
    assert wordpiece["runs_on_tflite_runtime_2_14"] is False


@pytest.mark.parametrize("kind", ["sentencepiece", "wordpiece"])
def test_kit_tags_words_like_the_keras_tagger(tag_kit, tag_bundles, sentencepiece_tagger,
                                              wordpiece_tagger, kind):
    from albert_tf.deploy import TFLiteRunner
    from albert_tf.deploy.tagging_graph import tflite_word_predictions
    from albert_tf.text.token_pipeline import predict_words

    tagger = {"sentencepiece": sentencepiece_tagger, "wordpiece": wordpiece_tagger}[kind]
    edge = tag_kit.EdgeTagger(tag_bundles[kind]["path"])
    results = edge.tag(SENTENCES)
    words = _keras_words(SENTENCES)
    assert [r["words"] for r in results] == words
    assert results[4] == {"text": "", "words": [], "tags": [], "tag_ids": [], "scores": []}
    # Same token ids and word starts as the preprocessor's alignment.
    packed, starts = edge.encode(words)
    aligned = tagger.preprocessor.align(words)
    np.testing.assert_array_equal(packed["token_ids"], aligned["token_ids"].numpy())
    assert starts == aligned["word_starts"].to_list()
    # Float32: the Keras tagger's tags; dynamic-int8: the same .tflite run through albert_tf.
    if kind == "sentencepiece":
        expected = predict_words(tagger, words)
    else:
        runner = TFLiteRunner(Path(tag_bundles[kind]["path"]) / "model.tflite")
        expected = tflite_word_predictions(runner, tagger.preprocessor, words)
    assert [r["tag_ids"] for r in results] == expected.tag_ids
    assert [r["tags"] for r in results] == expected.tag_names(TAGS)
    scores = [s for r in results for s in r["scores"]]
    reference = [float(row.max()) for rows in expected.probabilities for row in rows]
    np.testing.assert_allclose(scores, reference, atol=1e-5)
    long = results[5]  # words past the sequence get no tag, as in the SavedModel
    assert long["tags"][-1] is None and long["tag_ids"][-1] == -1 and long["scores"][-1] == 0.0
    assert long["tags"][0] is not None
    assert len({t for r in results for t in r["tags"] if t}) >= 2  # a real comparison


def test_a_kit_that_disagrees_is_refused_unless_allowed(tag_bundles, sentencepiece_tagger,
                                                        tmp_path, monkeypatch):
    from albert_tf.deploy.kit_bundle import load_edge_kit_module, write_tagging_bundle

    kit = load_edge_kit_module("tag")
    monkeypatch.setattr(kit, "split_words", str.split)  # no punctuation splitting
    model = Path(tag_bundles["sentencepiece"]["path"]) / "model.tflite"
    with pytest.raises(ParityError, match="words differ from split_words"):
        write_tagging_bundle(sentencepiece_tagger, tmp_path / "bad", tflite_path=model,
                             tag_names=TAGS)
    assert list(tmp_path.iterdir()) == []
    written = write_tagging_bundle(sentencepiece_tagger, tmp_path / "bad", tflite_path=model,
                                   tag_names=TAGS, allow_mismatch=True)
    parity = json.loads((tmp_path / "bad" / "kit.json").read_text())["parity"]
    assert parity["passed"] is False and parity["mismatch_allowed"] is True
    assert parity == written["parity"] and parity["word_split_mismatches"]


def test_tag_names_and_mode_are_checked(sentencepiece_tagger, tmp_path):
    from albert_tf.deploy.kit_bundle import write_tagging_bundle
    from albert_tf.errors import UserError

    with pytest.raises(UserError, match="3 tag names for a 5-tag model"):
        write_tagging_bundle(sentencepiece_tagger, tmp_path / "b", tag_names=["A", "B", "C"])
    with pytest.raises(UserError, match="unknown tagger TFLite mode 'int8'"):
        write_tagging_bundle(sentencepiece_tagger, tmp_path / "b", mode="int8")
    assert list(tmp_path.iterdir()) == []


def test_tag_py_in_the_kit_venv(edge_venv, tag_kit, tag_bundles, tmp_path):
    # Both bundles in the venv holding only requirements.txt, against the kit run here.
    text_file = tmp_path / "sentences.txt"
    text_file.write_text("\n".join(s for s in SENTENCES if s.strip() and "\n" not in s) + "\n",
                         encoding="utf-8")
    for kind in ("sentencepiece", "wordpiece"):
        path = tag_bundles[kind]["path"]
        output = read_json_output(run_kit(edge_venv, EDGE_KIT / "tag.py", path, "--file",
                                          text_file, "--json"))
        assert output["runtime"].startswith("ai-edge-litert")
        here = tag_kit.EdgeTagger(path).tag([r["text"] for r in output["results"]])
        assert [r["tags"] for r in output["results"]] == [r["tags"] for r in here]
        np.testing.assert_allclose([s for r in output["results"] for s in r["scores"]],
                                   [s for r in here for s in r["scores"]], atol=1e-6)
    plain = run_kit(edge_venv, EDGE_KIT / "tag.py", tag_bundles["sentencepiece"]["path"],
                    "The jury praised it.", "")
    assert plain.returncode == 0, plain.stderr
    first, empty = plain.stdout.split("\n")[:2]
    assert [pair.rsplit("/", 1)[0] for pair in first.split()] == ["The", "jury", "praised", "it",
                                                                  "."]
    assert all(pair.rsplit("/", 1)[1] in TAGS for pair in first.split()) and empty == ""
    # A tagging bundle given to classify.py, and no sentences: one line, exit 2.
    wrong = run_kit(edge_venv, EDGE_KIT / "classify.py", tag_bundles["sentencepiece"]["path"],
                    "a film")
    assert wrong.returncode == 2 and "run it with tag.py" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    nothing = run_kit(edge_venv, EDGE_KIT / "tag.py", tag_bundles["wordpiece"]["path"])
    assert nothing.returncode == 2 and "no sentences" in nothing.stderr
