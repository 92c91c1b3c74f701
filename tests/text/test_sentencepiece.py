import pytest
import sentencepiece as spm

from albert_tf.errors import UserError
from albert_tf.text import train_sentencepiece


def test_special_pieces_sit_where_keras_hub_albert_expects_them(sentencepiece_model):
    sp = spm.SentencePieceProcessor(model_file=sentencepiece_model)
    assert [sp.id_to_piece(i) for i in range(5)] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert sp.get_piece_size() == 1000


def test_special_pieces_are_control_symbols_so_typed_ones_are_plain_text(sentencepiece_model):
    # User-defined pieces are matched inside text by the sentencepiece library but not by
    # tensorflow-text's FastSentencepieceTokenizer (raw-text TFLite); control symbols by neither.
    import tensorflow as tf
    import tensorflow_text as tf_text

    sp = spm.SentencePieceProcessor(model_file=sentencepiece_model)
    assert all(sp.is_control(i) for i in (2, 3, 4))
    text = "[CLS] typed [SEP] tokens [MASK]"
    ids = sp.encode(text)
    assert not {2, 3, 4} & set(ids)
    fast = tf_text.FastSentencepieceTokenizer(model=open(sentencepiece_model, "rb").read())
    assert fast.tokenize(tf.constant([text])).to_list()[0] == ids


def test_case_is_folded_by_the_model_itself(sentencepiece_model):
    sp = spm.SentencePieceProcessor(model_file=sentencepiece_model)
    assert sp.encode("A GREAT Movie") == sp.encode("a great movie")


def test_same_texts_and_seed_give_the_same_model(tmp_path, rotten_tomatoes_small):
    texts = rotten_tomatoes_small[0].texts[:200]
    a = train_sentencepiece(texts, tmp_path / "a.model", vocab_size=300, seed=3)
    b = train_sentencepiece(texts, tmp_path / "b.model", vocab_size=300, seed=3)
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob("*.tmp"))


def test_vocabulary_larger_than_the_text_allows_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="vocab"):
        train_sentencepiece(["tiny corpus"] * 5, tmp_path / "x.model", vocab_size=5000)
    assert not (tmp_path / "x.model").exists()


def test_no_text_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no training text"):
        train_sentencepiece(["", "  "], tmp_path / "x.model", vocab_size=100)
