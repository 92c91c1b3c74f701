"""Session fixtures shared across test folders: small real data and a tiny tokenizer."""

import pytest


@pytest.fixture(scope="session")
def rotten_tomatoes_small():
    """Stratified real subsets of rotten-tomatoes: 400 train, 100 dev, 100 test."""
    from albert_tf.train.job import DataSpec, load_splits

    return load_splits(DataSpec(source="rotten-tomatoes", train_limit=400, dev_limit=100,
                                test_limit=100))


@pytest.fixture(scope="session")
def sentencepiece_model(tmp_path_factory, rotten_tomatoes_small):
    """A 1,000-piece ALBERT SentencePiece model trained on the small training split."""
    from albert_tf.text import train_sentencepiece

    train = rotten_tomatoes_small[0]
    path = tmp_path_factory.mktemp("spm") / "rt.model"
    return str(train_sentencepiece(train.texts, path, vocab_size=1000))
