"""Fixtures for the deployment-kit tests (export/edge, export/serving).

* A tiny keras-hub ALBERT classifier, trained briefly on real rotten-tomatoes text with the
  SentencePiece model the root conftest trains, and edge bundles of it (float32, dynamic-int8).
  It learns `word_presence_task` (does the snippet contain "the"?): fitted that way its answers
  differ from text to text for each of seeds 0-11 tried (probability std 0.19-0.49), where
  fitted to the sentiment labels it sometimes collapsed to one constant answer.
* A tiny BERT-shaped classifier with the MiniLM teacher's real WordPiece vocabulary (uncased),
  for the WordPiece path of the kit.
* Fresh virtual environments holding only a kit's requirements file, created once and cached
  under `<albert_tf cache>/kit-venvs/<hash of the requirements>` (built in a staging folder
  and renamed, so a killed install never leaves a half environment under the final name).
"""

from __future__ import annotations

import pytest
from kit_helpers import EDGE_KIT, SEQUENCE_LENGTH, SERVING_KIT, kit_venv, load_kit_module
from tiny_models import fit_tiny_albert_classifier, word_presence_task


@pytest.fixture(scope="session")
def edge_kit():
    """`export/edge/classify.py` imported as a module."""
    return load_kit_module(EDGE_KIT / "classify.py", "edge_kit_classify")


@pytest.fixture(scope="session")
def serving_client():
    """`export/serving/client.py` imported as a module."""
    return load_kit_module(SERVING_KIT / "client.py", "serving_kit_client")


@pytest.fixture(scope="session")
def kit_splits(rotten_tomatoes_small):
    return rotten_tomatoes_small


@pytest.fixture(scope="session")
def kit_texts(kit_splits):
    """Real review snippets plus the hard cases of tokenisation."""
    test = kit_splits[2]
    return list(test.texts[:24]) + [
        "", "   ", "Ünïcödé façade, naïve café!", "東京で映画を見た。とても良かった",
        "Great 😀👍 film", "It's a  tab\tand\nnewline", "word " * 80]


@pytest.fixture(scope="session")
def albert_classifier(kit_splits, sentencepiece_model):
    """A tiny ALBERT classifier fitted to 64 real snippets, built deterministically so that its
    answers differ from text to text on every run."""
    return fit_tiny_albert_classifier(
        sentencepiece_model, word_presence_task(kit_splits[0].select(range(64))),
        SEQUENCE_LENGTH, epochs=15,
        batch_size=16, num_layers=2, num_heads=2, embedding_dim=32, hidden_dim=64,
        intermediate_dim=128)


@pytest.fixture(scope="session")
def label_names(kit_splits):
    return list(kit_splits[0].label_names)


@pytest.fixture(scope="session")
def bundles_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("edge_bundles")


@pytest.fixture(scope="session")
def albert_bundles(albert_classifier, label_names, bundles_dir):
    """`{mode: bundle report}` for float32 and dynamic-int8 edge bundles of the ALBERT model."""
    from albert_tf.deploy.kit_bundle import write_edge_bundle

    return {mode: write_edge_bundle(albert_classifier, bundles_dir / f"albert-{mode}", mode=mode,
                                    label_names=label_names)
            for mode in ("float32", "dynamic-int8")}


@pytest.fixture(scope="session")
def wordpiece_classifier(minilm_folder):
    """A tiny BERT classifier (random weights) with the MiniLM teacher's real vocabulary and
    normalisation (lower-cased, accents stripped)."""
    import keras_hub

    from albert_tf.models import load_wordpiece_tokenizer

    tokenizer = load_wordpiece_tokenizer(minilm_folder)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=SEQUENCE_LENGTH)
    return keras_hub.models.BertTextClassifier(backbone, num_classes=3,
                                               preprocessor=preprocessor)


@pytest.fixture(scope="session")
def wordpiece_bundle(wordpiece_classifier, bundles_dir):
    from albert_tf.deploy.kit_bundle import write_edge_bundle

    return write_edge_bundle(wordpiece_classifier, bundles_dir / "bert-wordpiece",
                             label_names=["negative", "neutral", "positive"])


@pytest.fixture(scope="session")
def edge_venv():
    """Python of a fresh venv with only export/edge/requirements.txt installed."""
    return kit_venv(EDGE_KIT / "requirements.txt")
