"""The 234-text parity suite and the export gate: raw-text exports give keras-hub's token ids on
every text (SentencePiece: TFLite and SavedModel; WordPiece: SavedModel), the classes TFLite's
WordPiece kernels cannot match are exactly the listed ones, and a failing export writes nothing
unless the mismatch is allowed."""

import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest

from albert_tf.deploy.parity import PARITY_SUITE, PARITY_TEXTS, SUITE_FILE
from albert_tf.errors import ParityError, UserError

REQUIRED_CLASSES = {"latin_accents", "cjk", "japanese_kana", "korean", "arabic", "hebrew",
                    "devanagari_and_indic", "thai_and_southeast_asian", "emoji", "mixed_scripts",
                    "control_characters", "very_long", "empty_and_whitespace"}
# FastBertTokenizer (TFLite) vs keras-hub's BertTokenizer(lowercase=True, strip_accents=True)
# on the MiniLM vocabulary: keras-hub case-folds with NFKC, FastBertNormalize has no NFKC step
# (README, "Raw-text parity"). Measured: 30 of 234 texts.
WORDPIECE_TFLITE_MISMATCHES = {
    "arabic": 1, "cjk": 1, "control_characters": 5, "emoji": 4, "empty_and_whitespace": 5,
    "greek_cyrillic_other": 1, "korean": 7, "mixed_scripts": 3, "thai_and_southeast_asian": 1,
    "width_and_compatibility": 2}


def test_suite_file_is_what_the_generator_writes():
    path = Path(__file__).with_name("make_parity_texts.py")
    spec = importlib.util.spec_from_file_location("make_parity_texts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert SUITE_FILE.read_text(encoding="utf-8") == module.render()
    assert len(PARITY_TEXTS) >= 200 and REQUIRED_CLASSES <= set(PARITY_SUITE)
    assert "" in PARITY_TEXTS and max(map(len, PARITY_TEXTS)) > 2000


def test_sentencepiece_raw_text_tflite_is_identical_on_every_text(raw_text_export):
    parity = raw_text_export["parity"]
    tokens = parity["tokenization"]
    assert tokens["texts"] == len(PARITY_TEXTS)
    assert tokens["in_graph_mismatches"] == [] and tokens["edge_library_mismatches"] == []
    assert parity["passed"] and parity["outputs"]["within_tolerance"]


def test_sentencepiece_saved_model_is_identical_on_every_text(serving_export):
    tokens = serving_export["parity"]["tokenization"]
    assert tokens["texts"] == len(PARITY_TEXTS)
    assert tokens["in_graph_identical"], tokens["in_graph_mismatch_classes"]
    assert serving_export["parity"]["passed"]


def _user_defined_sentencepiece(texts) -> bytes:
    """A model trained the old way: [CLS] / [SEP] / [MASK] as user-defined symbols."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=buffer, vocab_size=300,
        normalization_rule_name="nmt_nfkc_cf", pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
        pad_piece="<pad>", unk_piece="<unk>", user_defined_symbols=["[CLS]", "[SEP]", "[MASK]"],
        minloglevel=2, num_threads=1)
    return buffer.getvalue()


def test_gate_refuses_typed_special_tokens_split_in_tflite(splits, tiny_albert_factory, tmp_path):
    import keras_hub

    from albert_tf.deploy import export_tflite

    tokenizer = keras_hub.models.AlbertTokenizer(
        proto=_user_defined_sentencepiece(splits[0].texts[:300]))
    model = tiny_albert_factory(tokenizer, 2)
    path = tmp_path / "old.tflite"
    with pytest.raises(ParityError, match="special_token_lookalikes 4"):
        export_tflite(model, path, raw_text=True)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file either
    report = export_tflite(model, path, raw_text=True, allow_mismatch=True)
    assert report["parity"]["mismatch_allowed"] and path.is_file()
    recorded = json.loads((tmp_path / "old.tflite.json").read_text())["parity"]
    assert recorded["tokenization"]["in_graph_mismatch_classes"] == {"special_token_lookalikes": 4}
    assert recorded["failures"] and not recorded["passed"]


@pytest.fixture(scope="module")
def minilm_bert(minilm_folder):
    """A tiny BERT classifier with the MiniLM teacher's vocabulary and normalisation."""
    import keras_hub

    from albert_tf.models import load_wordpiece_tokenizer

    tokenizer = load_wordpiece_tokenizer(minilm_folder)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=32)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=32)
    return keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor)


def test_wordpiece_saved_model_is_identical_on_every_text(minilm_bert, tmp_path):
    from albert_tf.deploy import export_saved_model

    report = export_saved_model(minilm_bert, tmp_path / "serving", "minilm", 1)
    tokens = report["parity"]["tokenization"]
    assert tokens["in_graph_identical"] and tokens["edge_library_identical"]
    assert report["parity"]["passed"]


def test_wordpiece_raw_text_tflite_differs_only_on_the_listed_classes(minilm_bert, tmp_path):
    from albert_tf.deploy import TFLiteRunner, export_tflite
    from albert_tf.deploy.classifier_graph import pack_texts

    path = tmp_path / "minilm_raw.tflite"
    with pytest.raises(ParityError, match="in-graph token ids differ"):
        export_tflite(minilm_bert, path, raw_text=True)
    assert list(tmp_path.iterdir()) == []
    report = export_tflite(minilm_bert, path, raw_text=True, allow_mismatch=True)
    tokens = report["parity"]["tokenization"]
    assert tokens["in_graph_mismatch_classes"] == WORDPIECE_TFLITE_MISMATCHES
    # Accented Latin, kana, CJK ideographs, Arabic, Hebrew, Devanagari: identical ids.
    texts = list(PARITY_SUITE["latin_accents"]) + ["Café naïve résumé", "映画はとても面白かった"]
    packed = TFLiteRunner(path).encode_texts(texts)
    np.testing.assert_array_equal(packed["token_ids"], pack_texts(minilm_bert, texts)["token_ids"])
    assert 100 not in packed["token_ids"][len(texts) - 2][:6]  # [UNK] before the fix


def test_wordpiece_settings_tflite_cannot_reproduce_are_refused(minilm_bert):
    from albert_tf.deploy.text_encoder import InGraphTextEncoder

    tokenizer = minilm_bert.preprocessor.tokenizer
    tokenizer.strip_accents = False
    try:
        with pytest.raises(UserError, match="lowercase=True with strip_accents=False"):
            InGraphTextEncoder(minilm_bert, target="tflite")
    finally:
        tokenizer.strip_accents = True
