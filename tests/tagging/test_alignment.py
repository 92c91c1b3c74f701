"""Word-to-sub-token alignment: several sub-tokens per word, truncation, mapping back."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def preprocessor(tiny_tagger_factory):
    return tiny_tagger_factory(sequence_length=12).preprocessor


def _pieces(preprocessor, word):
    return preprocessor.word_tokenizer().tokenize([word]).to_list()[0]


def test_first_sub_token_carries_the_label(preprocessor):
    from albert_tf.tagging.preprocessor import AlbertTokenClassifierPreprocessor

    preprocessor = AlbertTokenClassifierPreprocessor(preprocessor.tokenizer, sequence_length=32)
    words = ["The", "antidisestablishmentarianism", "grew"]
    assert len(_pieces(preprocessor, words[1])) > 2  # really split into several pieces
    aligned = preprocessor.align([words], [[5, 7, 2]])
    n1 = len(_pieces(preprocessor, words[1]))
    starts = aligned["word_starts"].to_list()[0]
    assert starts == [1, 2, 2 + n1]
    labels = aligned["labels"].numpy()[0]
    weights = aligned["label_weights"].numpy()[0]
    assert labels[starts].tolist() == [5, 7, 2]
    assert weights.sum() == 3 and weights[starts].tolist() == [1, 1, 1]
    # continuation pieces, [CLS], [SEP] and padding carry no label and no weight
    others = np.setdiff1d(np.arange(32), starts)
    assert weights[others].sum() == 0 and labels[others].sum() == 0
    ids = aligned["token_ids"].numpy()[0]
    tok = preprocessor.tokenizer
    assert ids[0] == tok.start_token_id
    n2 = len(_pieces(preprocessor, words[2]))
    assert ids[2 + n1 + n2] == tok.end_token_id  # right after the last word's pieces
    word_ids = ids[2:2 + n1].tolist()
    assert word_ids == _pieces(preprocessor, words[1])


def test_truncated_sentence_drops_words_past_the_length(preprocessor):
    words = ["the"] * 20  # 20 one-piece words, room for 10
    assert len(_pieces(preprocessor, "the")) == 1
    aligned = preprocessor.align([words], [list(range(20))])
    starts = aligned["word_starts"].to_list()[0]
    assert starts == list(range(1, 11)) + [-1] * 10
    assert aligned["label_weights"].numpy()[0].sum() == 10
    assert aligned["token_ids"].numpy()[0][-1] == preprocessor.tokenizer.end_token_id
    assert aligned["padding_mask"].numpy()[0].sum() == 12


def test_truncation_inside_a_multi_piece_word(preprocessor):
    long = "antidisestablishmentarianism"
    n = len(_pieces(preprocessor, long))
    assert len(_pieces(preprocessor, "the")) == 1
    words = ["the"] * (10 - 1) + [long, "end"]  # the long word starts at the last free slot
    aligned = preprocessor.align([words], [[1] * 9 + [2, 3]])
    starts = aligned["word_starts"].to_list()[0]
    assert starts[-2] == 10 and starts[-1] == -1  # its first piece fits, the next word not
    assert n > 1 and aligned["label_weights"].numpy()[0].sum() == 10
    assert aligned["labels"].numpy()[0][10] == 2


def test_empty_word_becomes_unknown(preprocessor):
    aligned = preprocessor.align([["a", "\u200b", "b"]], [[1, 2, 3]])
    starts = aligned["word_starts"].to_list()[0]
    assert len(starts) == 3 and -1 not in starts
    assert aligned["labels"].numpy()[0][starts].tolist() == [1, 2, 3]


def test_predictions_map_back_to_words():
    from albert_tf.text.token_pipeline import gather_word_rows

    probabilities = np.zeros((1, 6, 3), np.float32)
    probabilities[0, 1, 2] = 1  # word 0
    probabilities[0, 2, 0] = 1  # continuation of word 0: ignored
    probabilities[0, 3, 1] = 1  # word 1
    ids, rows = gather_word_rows(probabilities, [[1, 3, -1]])
    assert ids == [[2, 1, -1]]
    assert rows[0].shape == (3, 3) and rows[0][2].sum() == 0


def test_training_batches_weight_only_first_sub_tokens(preprocessor, brown_splits):
    from albert_tf.text.token_pipeline import make_tagging_dataset

    train = brown_splits[0].select(range(8))
    x, y, w = next(iter(make_tagging_dataset(train, preprocessor, batch_size=8)))
    w = w.numpy()
    aligned = preprocessor.align(train.words, train.tags)
    mask = aligned["label_weights"].numpy()
    # per-batch scaling: sum-over-batch loss equals the mean over labelled words
    np.testing.assert_allclose(w, mask * mask.size / mask.sum(), rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), aligned["labels"].numpy())
