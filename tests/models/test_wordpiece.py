"""WordPiece tokenizers load with the normalisation their vocabulary was trained with: the MiniLM
teacher's Hugging Face files say "strip accents when lower-casing", which keras-hub's
conversion drops ("Café naïve résumé" -> [UNK] [UNK] [UNK])."""

import json

import numpy as np

UNK = 100
TEXT = "Café naïve résumé"


def _ids(tokenizer, text=TEXT):
    return [int(i) for i in tokenizer(np.asarray([text], dtype=object))[0]]


def test_keras_hub_alone_loses_accented_words(minilm_folder):
    import keras_hub

    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(minilm_folder))
    assert (tokenizer.lowercase, tokenizer.strip_accents) == (True, False)
    assert _ids(tokenizer) == [UNK, UNK, UNK]  # the bug this module exists for


def test_load_wordpiece_tokenizer_strips_accents_as_bert_does(minilm_folder):
    from albert_tf.models import load_wordpiece_tokenizer

    tokenizer = load_wordpiece_tokenizer(minilm_folder)
    assert tokenizer.strip_accents is True
    assert _ids(tokenizer) == _ids(tokenizer, "cafe naive resume")
    assert UNK not in _ids(tokenizer)


def test_minilm_teacher_and_saved_classifiers_keep_the_setting(minilm_folder, tmp_path):
    import keras_hub

    from albert_tf.models import build_classifier, load_classifier, save_classifier

    teacher = build_classifier("minilm-teacher", num_classes=2, sequence_length=16)
    assert teacher.preprocessor.tokenizer.strip_accents is True
    tokenizer = teacher.preprocessor.tokenizer
    # A tiny task over the same tokenizer saves fast; what matters is the tokenizer's config.
    backbone = keras_hub.models.BertBackbone(vocabulary_size=tokenizer.vocabulary_size(),
                                             num_layers=1, num_heads=1, hidden_dim=4,
                                             intermediate_dim=4, max_sequence_length=16)
    small = keras_hub.models.BertTextClassifier(
        backbone, num_classes=2,
        preprocessor=keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=16))
    folder = save_classifier(small, tmp_path / "saved", ["a", "b"])
    assert json.loads((folder / "tokenizer.json").read_text())["config"]["strip_accents"] is True
    reloaded = load_classifier(folder)
    assert reloaded.preprocessor.tokenizer.strip_accents is True
    assert _ids(reloaded.preprocessor.tokenizer) == _ids(tokenizer)


def test_classifier_saved_before_the_fix_is_corrected_on_load(minilm_folder, tmp_path):
    import keras_hub

    from albert_tf.models import load_classifier, save_classifier

    # keras-hub's default (strip_accents=False) saved into the preset, as older runs did.
    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(minilm_folder))
    backbone = keras_hub.models.BertBackbone(vocabulary_size=tokenizer.vocabulary_size(),
                                             num_layers=1, num_heads=1, hidden_dim=4,
                                             intermediate_dim=4, max_sequence_length=16)
    old = keras_hub.models.BertTextClassifier(
        backbone, num_classes=2,
        preprocessor=keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=16))
    folder = save_classifier(old, tmp_path / "old", ["a", "b"])
    assert json.loads((folder / "tokenizer.json").read_text())["config"]["strip_accents"] is False
    assert load_classifier(folder).preprocessor.tokenizer.strip_accents is True


def test_a_vocabulary_with_accented_pieces_keeps_its_accents():
    import keras_hub

    from albert_tf.models import load_wordpiece_tokenizer

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "café", "cafe"]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    assert load_wordpiece_tokenizer(tokenizer=tokenizer).strip_accents is False
    assert _ids(tokenizer, "Café") == [5]
