"""Chinese pre-training gets a character vocabulary, so a character tagger fine-tuned from the
pre-trained model sees the ids it was pre-trained on. Real text: People's Daily sentences."""

import numpy as np
import pytest
import sentencepiece as spm

from albert_tf.errors import UserError
from albert_tf.text.sentencepiece_model import is_character_text, train_character_sentencepiece


@pytest.fixture(scope="module")
def chinese_texts():
    """600 running-text sentences of People's Daily (no spaces between words)."""
    from albert_tf.data import fetch_source
    from albert_tf.data.peoples_daily import read_paragraph_sentences

    texts = [text for paragraph in read_paragraph_sentences(fetch_source("peoples-daily"))
             for text in paragraph]
    return texts[:600]


def _one_unknown_per_run(ids, unknown=1):
    return [i for k, i in enumerate(ids) if not (i == unknown and k and ids[k - 1] == unknown)]


def test_chinese_text_is_told_from_english():
    assert is_character_text(["中共中央总书记江泽民，１９９８年。", "新华社 CNN 报道"])
    assert not is_character_text(["The jury praised the city.", "新华社 said so."])
    assert not is_character_text(["", "   "])


def test_running_text_and_single_characters_get_the_same_ids(chinese_texts, tmp_path):
    path = train_character_sentencepiece([[t] for t in chinese_texts], tmp_path / "zh.model",
                                         vocab_size=8000)
    sp = spm.SentencePieceProcessor(model_file=str(path))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    assert all(len(p) == 1 for p in pieces[5:]), "only single characters besides the specials"
    assert pieces[:5] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    for text in chinese_texts:
        # SentencePiece reads a run of unknown (rare) characters in running text as one <unk>.
        assert sp.encode(text) == _one_unknown_per_run(
            [i for char in text for i in sp.encode(char)]), text
    # A cap keeps the most frequent characters; the rest become <unk>.
    capped = spm.SentencePieceProcessor(model_file=str(train_character_sentencepiece(
        [[t] for t in chinese_texts], tmp_path / "capped.model", vocab_size=1500)))
    assert capped.get_piece_size() <= 1500
    assert 1 in capped.encode("".join(chinese_texts))
    # Below sentencepiece's 98 % coverage: one line that says how many pieces are needed.
    with pytest.raises(UserError, match=r"300 pieces covers .* at least \d+"):
        train_character_sentencepiece([[t] for t in chinese_texts], tmp_path / "small.model",
                                      vocab_size=300)


def test_pretraining_chinese_trains_the_vocabulary_a_character_tagger_reads(
        chinese_texts, tmp_path):
    from albert_tf.pretrain.job import PretrainConfig, PretrainJob, run_pretrain_job
    from albert_tf.tagging.model import build_token_classifier

    corpus = tmp_path / "zh.txt"  # ten-sentence documents between blank lines
    corpus.write_text("\n\n".join("\n".join(chinese_texts[i:i + 10])
                                  for i in range(0, len(chinese_texts), 10)), encoding="utf-8")
    job = PretrainJob(corpus=[str(corpus)], model="albert-tiny", vocab_size=8000,
                      sequence_length=32, held_out_fraction=0.1,
                      train=PretrainConfig(steps=2, batch_size=8, checkpoint_every=2))
    run_pretrain_job(job, tmp_path / "run", verbose=0)
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "run" / "tokenizer.model"))
    assert all(len(sp.id_to_piece(i)) == 1 for i in range(5, sp.get_piece_size()))

    tagger = build_token_classifier(str(tmp_path / "run" / "model"), num_classes=7,
                                    sequence_length=32)
    text = chinese_texts[3][:30]
    packed = tagger.preprocessor([list(text)])
    ids = np.asarray(packed["token_ids"])[0]
    expected = [2, *sp.encode(text), 3]
    assert ids[:len(expected)].tolist() == expected
