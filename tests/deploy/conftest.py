"""Fixtures for the deploy tests: one tiny, briefly trained ALBERT classifier on real text, and
its artifacts, exported once per session (conversion is the slow part).

The classifier is keras-hub's AlbertBackbone / AlbertTextClassifier / preprocessor with the
SentencePiece model the root conftest trains on the rotten-tomatoes training subset; weight
matrices are just large enough (>= 1,024 elements) for the quantizers to touch them, so the
size ordering of the modes is real. Sequences are 32 tokens.
"""

from __future__ import annotations

import pytest

SEQUENCE_LENGTH = 32
CALIBRATION_SAMPLES = 32


def _tiny_albert(tokenizer, num_classes: int, sequence_length: int = SEQUENCE_LENGTH,
                 truncate: str = "round_robin"):
    import keras_hub

    preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length, truncate=truncate)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2, num_heads=2,
        embedding_dim=32, hidden_dim=64, intermediate_dim=128, num_groups=1,
        num_inner_repetitions=1, max_sequence_length=sequence_length)
    return keras_hub.models.AlbertTextClassifier(backbone, num_classes=num_classes,
                                                 preprocessor=preprocessor)


@pytest.fixture(scope="session")
def splits(rotten_tomatoes_small):
    """(train, dev, test) real rotten-tomatoes subsets: 400 / 100 / 100."""
    return rotten_tomatoes_small


@pytest.fixture(scope="session")
def albert_tokenizer(sentencepiece_model):
    import keras_hub

    return keras_hub.models.AlbertTokenizer(proto=sentencepiece_model)


@pytest.fixture(scope="session")
def tiny_classifier(splits, albert_tokenizer):
    """A tiny ALBERT classifier trained for two short epochs (so predictions are not constant)."""
    import keras

    from albert_tf.models import detached_preprocessor
    from albert_tf.text import make_dataset

    # No keras.utils.set_random_seed here: it resets TensorFlow's kernel cache, which destroys the
    # SentencePiece resources of tokenizers other fixtures (and other test folders) already hold.
    train = splits[0]
    model = _tiny_albert(albert_tokenizer, len(train.label_names))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    dataset = make_dataset(train, model.preprocessor, batch_size=32, shuffle=True)
    with detached_preprocessor(model):
        model.fit(dataset, epochs=2, verbose=0)
    return model


@pytest.fixture(scope="session")
def label_names(splits):
    return list(splits[0].label_names)


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy_artifacts")


@pytest.fixture(scope="session")
def tflite_exports(tiny_classifier, splits, label_names, artifacts_dir):
    """`{mode: export report}` for every TFLite mode (token inputs), calibrated on train."""
    from albert_tf.deploy import TFLITE_MODES, export_tflite

    reports = {}
    for mode in TFLITE_MODES:
        reports[mode] = export_tflite(
            tiny_classifier, artifacts_dir / f"model_{mode}.tflite", mode=mode,
            representative_data=splits[0], label_names=label_names,
            calibration_samples=CALIBRATION_SAMPLES)
    return reports


@pytest.fixture(scope="session")
def raw_text_export(tiny_classifier, label_names, artifacts_dir):
    """The raw-text float32 TFLite export (tokenizer in the graph)."""
    from albert_tf.deploy import export_tflite

    return export_tflite(tiny_classifier, artifacts_dir / "model_raw_text.tflite",
                         mode="float32", raw_text=True, label_names=label_names)


@pytest.fixture(scope="session")
def serving_export(tiny_classifier, label_names, artifacts_dir):
    """A TF Serving layout with version 1 of `sentiment`."""
    from albert_tf.deploy import export_saved_model

    return export_saved_model(tiny_classifier, artifacts_dir / "serving", "sentiment", 1,
                              label_names=label_names)


@pytest.fixture(scope="session")
def tiny_albert_factory():
    """Build another tiny ALBERT classifier: `(tokenizer, num_classes, ...) -> model`."""
    return _tiny_albert
