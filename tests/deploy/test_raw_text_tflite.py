"""Raw-text TFLite: strings in, probabilities out, tokenizer (FastSentencepieceTokenizer) in the
graph, run through InterpreterWithCustomOps with TF Text's kernels."""

import numpy as np

from albert_tf.deploy.classifier_graph import keras_probabilities, pack_texts
from albert_tf.deploy.parity import PARITY_TEXTS


def test_strings_in_probabilities_out(raw_text_export, tiny_classifier):
    import tensorflow_text
    from ai_edge_litert.interpreter import InterpreterWithCustomOps

    interpreter = InterpreterWithCustomOps(
        model_path=raw_text_export["path"],
        custom_op_registerers=tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS)
    assert set(interpreter.get_signature_list()) == {"serving_default", "encode"}
    runner = interpreter.get_signature_runner("serving_default")
    texts = ["A gripping, beautifully acted film.", "东京 café 😍", ""]
    got = np.concatenate([runner(text=np.array([t.encode()], dtype=object))["probabilities"]
                          for t in texts])
    expected = keras_probabilities(tiny_classifier, pack_texts(tiny_classifier, texts))
    assert np.abs(got - expected).max() < 1e-4
    assert "TFText>FastSentencepieceTokenize" in raw_text_export["ops"]["custom_ops"]


def test_tokenisation_parity_keras_hub_sentencepiece_and_graph(raw_text_export):
    tokens = raw_text_export["parity"]["tokenization"]
    assert tokens["texts"] == len(PARITY_TEXTS)
    assert tokens["edge_library"] == "sentencepiece"
    assert tokens["edge_library_identical"], tokens["edge_library_mismatches"]
    # [CLS] / [SEP] / [MASK] are control symbols now: typed ones are plain text everywhere.
    assert tokens["in_graph_mismatches"] == []
    assert tokens["identical"] is True


def test_raw_text_output_parity_on_awkward_texts(raw_text_export, tiny_classifier):
    from albert_tf.deploy import TFLiteRunner

    texts = list(PARITY_TEXTS)
    runner = TFLiteRunner(raw_text_export["path"])
    got = runner.predict_texts(texts)
    expected = keras_probabilities(tiny_classifier, pack_texts(tiny_classifier, texts))
    assert np.abs(got - expected).max() <= 1e-4
    packed = runner.encode_texts(texts)
    reference = pack_texts(tiny_classifier, texts)
    for name in reference:
        np.testing.assert_array_equal(packed[name], reference[name])
