from types import SimpleNamespace

import numpy as np
import sentencepiece as spm

from albert_tf.models import load_albert_tokenizer
from albert_tf.text import make_dataset

CLS, SEP, PAD = 2, 3, 0


def _preprocessor(model_path, length):
    import keras_hub

    return keras_hub.models.AlbertTextClassifierPreprocessor(
        load_albert_tokenizer(model_path), sequence_length=length)


def test_single_texts_are_packed_cls_text_sep_and_padded(sentencepiece_model):
    sp = spm.SentencePieceProcessor(model_file=sentencepiece_model)
    texts = ["a gripping, funny film", "dull"]
    examples = SimpleNamespace(texts=texts, pairs=None, labels=np.array([1, 0]))
    x, y = next(iter(make_dataset(examples, _preprocessor(sentencepiece_model, 16), 2)))
    for row, text in zip(x["token_ids"].numpy(), texts):
        ids = [CLS] + sp.encode(text) + [SEP]
        assert row.tolist() == ids + [PAD] * (16 - len(ids))
    assert x["padding_mask"].numpy().sum(axis=1).tolist() == [
        len(sp.encode(t)) + 2 for t in texts]
    assert x["segment_ids"].numpy().max() == 0
    assert y.numpy().tolist() == [1, 0]


def test_pairs_are_packed_with_second_segment_and_truncated(sentencepiece_model):
    sp = spm.SentencePieceProcessor(model_file=sentencepiece_model)
    first = "the plot is thin but the acting is superb and the music lovely " * 3
    examples = SimpleNamespace(texts=[first], pairs=["short pair"], labels=np.array([1]))
    x, _ = next(iter(make_dataset(examples, _preprocessor(sentencepiece_model, 24), 1)))
    ids = x["token_ids"].numpy()[0].tolist()
    segments = x["segment_ids"].numpy()[0].tolist()
    assert len(ids) == 24 and ids[0] == CLS and ids.count(SEP) == 2 and PAD not in ids
    second = sp.encode("short pair")
    # The second segment is kept whole (round-robin truncation trims the long first one).
    assert ids[-len(second) - 1:] == second + [SEP]
    assert segments == [0] * (24 - len(second) - 1) + [1] * (len(second) + 1)


def test_shuffle_is_seeded_and_covers_every_example(sentencepiece_model):
    texts = [f"review {i}" for i in range(50)]
    # The labels double as example ids here, so the order of y is the order of examples.
    examples = SimpleNamespace(texts=texts, pairs=None, labels=np.arange(50))
    prep = _preprocessor(sentencepiece_model, 12)

    def order(seed):
        ds = make_dataset(examples, prep, 8, shuffle=True, seed=seed)
        return [int(i) for _, y in ds for i in y.numpy()]

    first = order(1)
    assert first == order(1)
    assert first != order(2)
    assert sorted(first) == list(range(50))
    assert int(make_dataset(examples, prep, 8).cardinality()) == 7
