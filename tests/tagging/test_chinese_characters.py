"""Chinese tagged per character: raw text splits into characters, and the tokenizer trained on
such data spends one piece per character. Hermetic: synthetic sentences."""

import numpy as np
import sentencepiece as spm

from albert_tf.deploy.tagging_graph import split_words
from albert_tf.text import train_sentencepiece
from albert_tf.text.sentencepiece_model import words_are_characters

HAN = [chr(code) for code in range(0x4E00, 0x4E00 + 120)]


def chinese_sentences(count=400, seed=0):
    rng = np.random.default_rng(seed)
    return [list(rng.choice(HAN, size=rng.integers(5, 30))) for _ in range(count)]


def test_raw_chinese_text_splits_into_characters_and_english_into_words():
    words = [[w.decode() for w in s] for s in split_words(
        ["中共中央总书记江泽民，１９９８年。", "Hello, world (again)."]).to_list()]
    assert words[0] == list("中共中央总书记江泽民，１９９８年。")
    assert words[1] == ["Hello", ",", "world", "(", "again", ")", "."]
    mixed = [w.decode() for w in split_words(["新华社 CNN 报道"]).to_list()[0]]
    assert mixed == ["新", "华", "社", "CNN", "报", "道"]


def test_character_data_gets_one_piece_per_character(tmp_path):
    sentences = chinese_sentences()
    assert words_are_characters(sentences)
    assert not words_are_characters([["the", "dog"], ["a", "cat", "runs"]])
    texts = [" ".join(words) for words in sentences]
    with_prefix = spm.SentencePieceProcessor(model_file=str(train_sentencepiece(
        texts, tmp_path / "prefix.model", vocab_size=200)))
    without = spm.SentencePieceProcessor(model_file=str(train_sentencepiece(
        texts, tmp_path / "chars.model", vocab_size=200, add_dummy_prefix=False)))
    pieces = [len(without.encode(char)) for char in HAN]
    assert pieces == [1] * len(HAN)
    # With the prefix, characters cost more than one piece (the `▁` of each "word").
    assert sum(len(with_prefix.encode(char)) for char in HAN) > len(HAN)
