"""The edge kit packs texts exactly like keras-hub (run here, in albert_tf's own environment)."""

import numpy as np
import pytest

from albert_tf.deploy.classifier_graph import pack_texts


def _assert_same_packing(kit_packed, keras_packed):
    for name in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(kit_packed[name], keras_packed[name].astype(np.int32),
                                      err_msg=name)


@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_pack_matches_multi_segment_packer(edge_kit, truncate):
    import keras_hub

    length = 12
    packer = keras_hub.layers.MultiSegmentPacker(
        sequence_length=length, start_value=2, end_value=3, pad_value=0, truncate=truncate)
    spec = {"sequence_length": length, "truncate": truncate,
            "special_tokens": {"start_id": 2, "end_id": 3, "pad_id": 0}}
    rng = np.random.default_rng(0)
    for first_length in range(0, 14):
        for second_length in (None, 0, 1, 3, 8, 15):
            first = list(rng.integers(10, 99, first_length))
            segments = [first] if second_length is None else \
                [first, list(rng.integers(100, 199, second_length))]
            token_ids, segment_ids = packer(tuple([s] for s in segments))
            packed = edge_kit.pack(segments, spec)
            np.testing.assert_array_equal(packed["token_ids"], np.asarray(token_ids)[0])
            np.testing.assert_array_equal(packed["segment_ids"], np.asarray(segment_ids)[0])
            np.testing.assert_array_equal(packed["padding_mask"],
                                          (np.asarray(token_ids)[0] != 0).astype(np.int32))


def test_sentencepiece_bundle_packs_like_the_albert_preprocessor(edge_kit, albert_bundles,
                                                                  albert_classifier, kit_texts):
    classifier = edge_kit.EdgeClassifier(albert_bundles["float32"]["path"])
    _assert_same_packing(classifier.encode(kit_texts), pack_texts(albert_classifier, kit_texts))
    pairs = list(reversed(kit_texts))
    _assert_same_packing(classifier.encode(kit_texts, pairs),
                         pack_texts(albert_classifier, kit_texts, pairs))


def test_wordpiece_bundle_packs_like_the_bert_preprocessor(edge_kit, wordpiece_bundle,
                                                            wordpiece_classifier, kit_texts):
    import tensorflow as tf

    texts = kit_texts + ["Cafe\u0301 \u00dftra\u00dfe \u2460 \uff01wow\uff01", "zero\u200bwidth",
                         "x" * 120, "[CLS] [SEP] [UNK] [MASK]", "e.g., U.S.-made"]
    classifier = edge_kit.EdgeClassifier(wordpiece_bundle["path"])
    kit_packed = classifier.encode(texts)
    _assert_same_packing(kit_packed, pack_texts(wordpiece_classifier, texts))
    # keras-hub's tf.data path (the one training uses) gives the same ids.
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(len(texts)).map(
        wordpiece_classifier.preprocessor)
    graph_packed = {name: value.numpy() for name, value in next(iter(dataset)).items()}
    _assert_same_packing(kit_packed, graph_packed)


def test_wordpiece_kit_json_records_the_tokenizer_options(wordpiece_bundle,
                                                          wordpiece_classifier):
    tokenizer = wordpiece_classifier.preprocessor.tokenizer
    options = wordpiece_bundle["tokenizer"]
    assert options["kind"] == "wordpiece" and options["file"] == "vocab.txt"
    assert options["lowercase"] is True and options["lowercase"] == tokenizer.lowercase
    assert options["oov_token"] == "[UNK]" and options["suffix_indicator"] == "##"
    assert wordpiece_bundle["special_tokens"] == {
        "start_id": tokenizer.token_to_id("[CLS]"), "end_id": tokenizer.token_to_id("[SEP]"),
        "pad_id": tokenizer.token_to_id("[PAD]")}


def test_kit_tokenizers_match_keras_hub_on_the_parity_suite(edge_kit, albert_bundles,
                                                             albert_classifier, wordpiece_bundle,
                                                             wordpiece_classifier):
    # All 234 texts of albert_tf/deploy/parity_texts.json, both tokenizer kinds.
    from albert_tf.deploy.parity import PARITY_TEXTS

    texts = list(PARITY_TEXTS)
    for bundle, model in ((albert_bundles["float32"], albert_classifier),
                          (wordpiece_bundle, wordpiece_classifier)):
        _assert_same_packing(edge_kit.EdgeClassifier(bundle["path"]).encode(texts),
                             pack_texts(model, texts))
        assert bundle["parity"]["passed"] and bundle["parity"]["tokenizer_mismatches"] == []
