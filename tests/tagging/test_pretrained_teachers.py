"""Pretrained (BERT-family, WordPiece) teachers for tagging, and ALBERT taggers made from them.

Tiny random BERT taggers over a hand-made WordPiece vocabulary: no download, seconds each.
"""

import keras
import keras_hub
import numpy as np
import pytest

from albert_tf.errors import UserError

VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able",
              "cafe", "don", "'", "t", ".", "jury", "praised", "it", "##s", "over"]
SEQUENCE_LENGTH = 16


def _bert_tagger(num_layers=2, hidden_dim=32, num_classes=5, dropout=0.0):
    from albert_tf.tagging.model import BertTokenClassifier
    from albert_tf.tagging.preprocessor import BertTokenClassifierPreprocessor

    # No global seed: it would clear TensorFlow's kernel cache and with it the SentencePiece
    # resources of taggers other tests in this process hold. The tests that read outputs
    # overwrite every weight with `_randomized`'s seeded values.
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=VOCABULARY, lowercase=True)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCABULARY), num_layers=num_layers, num_heads=2,
        hidden_dim=hidden_dim, intermediate_dim=2 * hidden_dim, dropout=dropout,
        max_sequence_length=32)
    return BertTokenClassifier(
        backbone, num_classes=num_classes, dropout=dropout,
        preprocessor=BertTokenClassifierPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH))


def _randomized(model, seed=0, scale=0.3):
    """Every weight random (layer-norm scales near 1), so a wrong mapping cannot hide."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        values = rng.normal(0.0, scale, variable.shape) + (1.0 if "gamma" in variable.path else 0)
        variable.assign(values.astype(variable.dtype))
    return model


SENTENCES = [["The", "jury", "praised", "it", "."], ["It's", "over", "!"],
             ["Unaffable", "café", "don't", "zebra"]]


def test_wordpiece_words_label_their_first_piece_and_unknown_words_get_one_token():
    tagger = _bert_tagger()
    aligned = tagger.preprocessor.align([["The", "unaffable", "Café", "don't", "\x00", "zebra",
                                          "."]], [[1, 2, 3, 4, 0, 2, 1]])
    ids = {token: i for i, token in enumerate(VOCABULARY)}
    expected = ["[CLS]", "the", "un", "##aff", "##able", "cafe", "don", "'", "t", "[UNK]",
                "[UNK]", ".", "[SEP]"]
    # "Café" loses its accent as MiniLM's uncased vocabulary was trained; "don't" splits at
    # the apostrophe; a control character and an unknown word each become one [UNK].
    assert aligned["token_ids"].numpy()[0].tolist() == \
        [ids[t] for t in expected] + [0] * (SEQUENCE_LENGTH - len(expected))
    assert aligned["word_starts"].to_list() == [[1, 2, 5, 6, 9, 10, 11]]
    weights = aligned["label_weights"].numpy()[0]
    assert np.flatnonzero(weights).tolist() == [1, 2, 5, 6, 9, 10, 11]
    assert aligned["labels"].numpy()[0][[1, 2, 5, 6, 9, 10, 11]].tolist() == [1, 2, 3, 4, 0, 2, 1]


def test_a_bert_tagger_saves_and_loads_as_a_token_classifier(tmp_path):
    from albert_tf.tagging.model import (
        BertTokenClassifier,
        load_tag_names,
        load_token_classifier,
        save_token_classifier,
    )
    from albert_tf.tagging.preprocessor import BertTokenClassifierPreprocessor

    tagger = _randomized(_bert_tagger())
    folder = save_token_classifier(tagger, tmp_path / "bert", list("ABCDE"))
    loaded = load_token_classifier(folder)
    assert isinstance(loaded, BertTokenClassifier)
    assert isinstance(loaded.preprocessor, BertTokenClassifierPreprocessor)
    assert load_tag_names(folder, 5) == list("ABCDE")
    x = tagger.preprocessor(SENTENCES)
    np.testing.assert_allclose(loaded(x), tagger(x), atol=1e-6)


@pytest.mark.parametrize("merge", ["average", "select"])
def test_albertizing_a_tagger_with_full_width_embeddings_reproduces_the_teacher(tmp_path, merge):
    from albert_tf.compress.distill.albertize import albertize_student
    from albert_tf.tagging.model import (
        AlbertTokenClassifier,
        load_token_classifier,
        save_token_classifier,
    )
    from albert_tf.tagging.preprocessor import BertTokenClassifierPreprocessor

    teacher = _randomized(_bert_tagger(num_layers=2, hidden_dim=32))
    # E = H and one group per layer: every weight maps exactly, so the logits must agree.
    student = albertize_student(teacher, embedding_dim=32, num_groups=2, merge=merge,
                                calibration_texts=SENTENCES)
    assert isinstance(student, AlbertTokenClassifier)
    assert isinstance(student.preprocessor, BertTokenClassifierPreprocessor)
    assert student.num_classes == teacher.num_classes
    x = teacher.preprocessor(SENTENCES)
    np.testing.assert_allclose(student(x), teacher(x), atol=2e-4)
    # It round-trips as a preset with the teacher's WordPiece preprocessor.
    loaded = load_token_classifier(save_token_classifier(student, tmp_path / "s", list("ABCDE")))
    assert isinstance(loaded, AlbertTokenClassifier)
    np.testing.assert_allclose(loaded(x), student(x), atol=1e-6)


def test_albertizing_a_tagger_shrinks_it_and_select_picks_a_layer_per_group(caplog):
    from albert_tf.compress.distill.albertize import albertize_student

    teacher = _randomized(_bert_tagger(num_layers=4, hidden_dim=32))
    with caplog.at_level("INFO", logger="albert_tf.compress.distill.albertize"):
        student = albertize_student(teacher, embedding_dim=8, num_groups=2, num_layers=2,
                                    merge="select", calibration_texts=SENTENCES)
    assert len(student.backbone.transformer_layers) == 2
    assert student.count_params() < teacher.count_params()
    assert sum("keeps teacher layer" in r.message for r in caplog.records) == 2
    assert student(teacher.preprocessor(SENTENCES)).shape == (3, SEQUENCE_LENGTH, 5)


def test_a_bert_preset_folder_builds_a_bert_tagger_and_long_sequences_are_refused(tmp_path):
    from albert_tf.tagging.model import BertTokenClassifier, build_token_classifier

    tagger = _bert_tagger()
    folder = tmp_path / "bert-preset"
    tagger.backbone.save_to_preset(str(folder))
    tagger.preprocessor.tokenizer.save_to_preset(str(folder))
    built = build_token_classifier(str(folder), num_classes=7, sequence_length=24)
    assert isinstance(built, BertTokenClassifier) and built.num_classes == 7
    assert built.preprocessor.sequence_length == 24
    with pytest.raises(UserError, match="position"):
        build_token_classifier(str(folder), num_classes=7, sequence_length=64)


def test_word_predictions_trim_batches_but_match_the_full_length_model_in_input_order():
    from albert_tf.text.token_pipeline import INPUT_NAMES, gather_word_rows, predict_words

    tagger = _randomized(_bert_tagger())
    sentences = [["The", "jury", "praised", "it", "."] * 3, ["over"], [],
                 ["Unaffable", "café", "don't", "zebra"], ["it"] * 20]  # the last one is cut
    predicted = predict_words(tagger, sentences, batch_size=2)
    aligned = tagger.preprocessor.align(sentences)
    full = tagger({name: aligned[name] for name in INPUT_NAMES}, training=False)
    expected_ids, expected_rows = gather_word_rows(
        keras.ops.convert_to_numpy(keras.ops.softmax(full, axis=-1)),
        aligned["word_starts"].to_list())
    assert predicted.tag_ids == expected_ids
    assert -1 in predicted.tag_ids[4]  # words past the sequence get no tag
    for got, want in zip(predicted.probabilities, expected_rows):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_teacher_outputs_from_trimmed_batches_equal_the_full_length_ones_where_words_are(
        tmp_path):
    from albert_tf.compress.distill.features import feature_model
    from albert_tf.compress.distill.teacher_cache import teacher_outputs
    from albert_tf.tagging.examples import TaggedSentences
    from albert_tf.tasks.token_classification import TokenClassificationAdapter
    from albert_tf.text.pipeline import INPUT_NAMES

    teacher = _randomized(_bert_tagger())
    sentences = [["The", "jury", "praised", "it", "."] * 2, ["over"], ["it"] * 20,
                 ["Unaffable", "café"]]
    data = TaggedSentences(sentences, [[1] * len(s) for s in sentences], list("ABCDE"), "t")
    adapter = TokenClassificationAdapter()
    arrays = adapter.distillation_arrays(teacher, data)
    inputs = {name: arrays[name] for name in INPUT_NAMES}
    cached = teacher_outputs(teacher, inputs, tmp_path, hidden_indices=[1],
                             attention_indices=[1], batch_size=2, dtype="float32", verbose=0,
                             lengths=adapter.distillation_lengths(arrays))
    full = {k: keras.ops.convert_to_numpy(v) for k, v in
            feature_model(teacher, [1], [1])(inputs, training=False).items()}
    real = arrays["padding_mask"] > 0
    np.testing.assert_allclose(cached.logits[real], full["logits"][real], atol=1e-5)
    np.testing.assert_allclose(cached.hidden[1][real], full["hidden_1"][real], atol=1e-5)
    pairs = real[:, None, :, None] & real[:, None, None, :]  # real query and key positions
    attention = np.broadcast_to(pairs, full["attention_1"].shape)
    np.testing.assert_allclose(cached.attention[1][attention], full["attention_1"][attention],
                               atol=1e-5)
    # The one-word sentence ran in a batch trimmed to 8 positions: nothing computed past them.
    assert not cached.logits[1, 8:].any() and not cached.attention[1][1, :, 8:].any()
