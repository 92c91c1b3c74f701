import numpy as np
import pytest

from albert_tf.errors import UserError
from albert_tf.models import (
    ALBERT_CONFIGS,
    build_classifier,
    count_parameters,
    load_classifier,
    load_label_names,
    save_classifier,
)

TEXTS = ["an honest, moving film", "a tedious mess", "Café crème, naïve résumé 😀"]


def test_named_config_is_a_factorised_shared_albert(sentencepiece_model):
    clf = build_classifier("albert-tiny", num_classes=2, tokenizer=sentencepiece_model,
                           sequence_length=32)
    cfg = ALBERT_CONFIGS["albert-tiny"]
    backbone = clf.backbone
    # Factorised embeddings: vocab x E, then an E x H projection.
    assert tuple(backbone.token_embedding.embeddings.shape) == (1000, cfg["embedding_dim"])
    assert tuple(backbone.embeddings_projection.kernel.shape) == (
        cfg["embedding_dim"], cfg["hidden_dim"])
    # Cross-layer sharing: one encoder layer's variables for all num_layers repetitions.
    groups = backbone.transformer_layers
    assert len(groups) == cfg["num_groups"] == 1 and len(groups[0]) == 1
    shared = groups[0][0]
    assert backbone.num_layers == cfg["num_layers"] == 4
    assert len(shared._inbound_nodes) == 4  # the same layer is called once per depth step
    assert clf.preprocessor.sequence_length == 32
    counts = count_parameters(clf)
    assert counts["parameters"] - counts["parameters_without_token_embedding"] == (
        1000 * cfg["embedding_dim"])


def test_a_sequence_length_beyond_the_position_table_is_refused(sentencepiece_model, tmp_path):
    with pytest.raises(UserError, match="at most 512, the size of albert-tiny's position "
                                        "table. Received: 100000"):
        build_classifier("albert-tiny", num_classes=2, tokenizer=sentencepiece_model,
                         sequence_length=100_000)
    folder = save_classifier(build_classifier("albert-tiny", num_classes=2,
                                              tokenizer=sentencepiece_model,
                                              sequence_length=16), tmp_path / "clf")
    with pytest.raises(UserError, match="at most 512"):
        build_classifier(str(folder), sequence_length=513)


def test_saved_classifier_loads_back_with_equal_outputs(tmp_path, sentencepiece_model):
    clf = build_classifier("albert-tiny", num_classes=3, tokenizer=sentencepiece_model,
                           sequence_length=24)
    folder = save_classifier(clf, tmp_path / "clf", label_names=["a", "b", "c"])
    assert not (tmp_path / "clf.tmp").exists()
    loaded = load_classifier(folder)
    np.testing.assert_allclose(clf.predict(TEXTS, verbose=0), loaded.predict(TEXTS, verbose=0),
                               atol=1e-6)
    assert loaded.preprocessor.sequence_length == 24
    assert load_label_names(folder, 3) == ["a", "b", "c"]
    # Loading it by folder name through the one entry point keeps its head.
    again = build_classifier(str(folder), sequence_length=24)
    np.testing.assert_allclose(again.predict(TEXTS, verbose=0), loaded.predict(TEXTS, verbose=0),
                               atol=1e-6)


def test_a_trained_model_is_saved_without_optimizer_state_and_loads_without_warnings(
        tmp_path, sentencepiece_model):
    import warnings

    import h5py
    import keras

    keras.utils.set_random_seed(0)
    clf = build_classifier("albert-tiny", num_classes=2, tokenizer=sentencepiece_model,
                           sequence_length=16)
    clf.fit(TEXTS[:2], np.array([1, 0]), epochs=1, verbose=0)  # builds Adam's moments
    trained_state = len(clf.optimizer.variables)
    assert trained_state > 2
    folder = save_classifier(clf, tmp_path / "clf")
    with h5py.File(folder / "task.weights.h5", "r") as saved:
        assert len(saved["optimizer"]["vars"]) == 2  # iterations and learning rate only
    assert len(clf.optimizer.variables) == trained_state  # the live model keeps training state
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Skipping variable loading for optimizer" would raise
        loaded = load_classifier(folder)
    np.testing.assert_allclose(clf.predict(TEXTS, verbose=0), loaded.predict(TEXTS, verbose=0),
                               atol=1e-6)


def test_a_model_trained_with_a_learning_rate_schedule_loads_without_warnings(
        tmp_path, sentencepiece_model):
    """The toolkit trains with warm-up + decay schedules: the saved stand-in optimizer must
    still have the variables of the one a loaded task is compiled with."""
    import warnings

    import keras

    from albert_tf.train.config import FinetuneConfig
    from albert_tf.train.finetune import make_optimizer

    keras.utils.set_random_seed(0)
    clf = build_classifier("albert-tiny", num_classes=2, tokenizer=sentencepiece_model,
                           sequence_length=16)
    clf.compile(optimizer=make_optimizer(FinetuneConfig(), total_steps=10),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    clf.fit(TEXTS[:2], np.array([1, 0]), epochs=1, verbose=0)
    folder = save_classifier(clf, tmp_path / "clf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Skipping variable loading for optimizer" would raise
        load_classifier(folder)


def test_local_backbone_preset_gets_a_new_head(tmp_path, sentencepiece_model):
    """Stand-in for a downloaded keras-hub preset: a backbone + tokenizer preset folder."""
    import keras_hub

    from albert_tf.models import load_albert_tokenizer

    tokenizer = load_albert_tokenizer(sentencepiece_model)
    backbone = keras_hub.models.AlbertBackbone(vocabulary_size=1000, num_layers=2, num_heads=2,
                                               embedding_dim=8, hidden_dim=16,
                                               intermediate_dim=32)
    backbone.save_to_preset(str(tmp_path / "preset"))
    tokenizer.save_to_preset(str(tmp_path / "preset"))
    clf = build_classifier(str(tmp_path / "preset"), num_classes=5, sequence_length=16)
    assert isinstance(clf, keras_hub.models.AlbertTextClassifier)
    assert clf.predict(TEXTS, verbose=0).shape == (3, 5)
    restored = clf.backbone.token_embedding.embeddings.numpy()
    np.testing.assert_array_equal(restored, backbone.token_embedding.embeddings.numpy())


def test_bad_model_names_and_arguments_are_user_errors(tmp_path, sentencepiece_model):
    with pytest.raises(UserError, match="unknown model 'albert-huge'.*albert-tiny"):
        build_classifier("albert-huge", num_classes=2)
    with pytest.raises(UserError, match="folder not found"):
        build_classifier(str(tmp_path / "missing"), num_classes=2)
    with pytest.raises(UserError, match="needs a SentencePiece tokenizer"):
        build_classifier("albert-tiny", num_classes=2)
    with pytest.raises(UserError, match="num_classes must be at least 2"):
        build_classifier("albert-tiny", num_classes=1, tokenizer=sentencepiece_model)
    with pytest.raises(UserError, match="not a saved classifier"):
        load_classifier(tmp_path)


def test_keras_hub_albert_presets_are_recognised_names():
    from albert_tf.models.factory import _known_presets

    assert {"albert_base_en_uncased", "albert_large_en_uncased"} <= _known_presets()


@pytest.fixture()
def saved_tiny(tmp_path, sentencepiece_model):
    clf = build_classifier("albert-tiny", num_classes=2, tokenizer=sentencepiece_model,
                           sequence_length=16)
    return save_classifier(clf, tmp_path / "clf", label_names=["neg", "pos"])


def flip_a_bit(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:]


@pytest.mark.parametrize("damage, message", [
    (lambda f: f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2]),
     "model.weights.h5 has"),                                   # truncated
    (lambda f: f.write_bytes(flip_a_bit(f.read_bytes())), "model.weights.h5 differs"),
    (lambda f: f.unlink(), "model.weights.h5 is missing"),
])
def test_a_damaged_weights_file_is_one_clear_error(saved_tiny, damage, message):
    damage(saved_tiny / "model.weights.h5")
    with pytest.raises(UserError, match=message):
        load_classifier(saved_tiny)


def test_a_broken_config_in_a_folder_without_manifest_is_one_clear_error(saved_tiny):
    from albert_tf.models.integrity import MANIFEST

    (saved_tiny / MANIFEST).unlink()  # as a preset copied by hand would be
    (saved_tiny / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="cannot load the model in .*config.json.*JSONDecode"):
        load_classifier(saved_tiny)


def test_label_names_that_do_not_fit_the_model_are_refused(saved_tiny):
    assert load_label_names(saved_tiny, 2) == ["neg", "pos"]
    (saved_tiny / "label_names.json").write_text('["neg", "pos", "meh"]')
    with pytest.raises(UserError, match="must list 2 distinct label names"):
        load_label_names(saved_tiny, 2)
