"""Tagging fixtures: a real Brown subset, a small SentencePiece model, one trained tiny tagger."""

import pytest

TINY_SHAPE = dict(num_layers=2, num_heads=2, embedding_dim=32, hidden_dim=32,
                  intermediate_dim=64, num_groups=1, num_inner_repetitions=1)
SEQUENCE_LENGTH = 48


@pytest.fixture(scope="session")
def brown_splits():
    """Real Brown sentences (universal tags): 300 train, 60 dev, 60 test from the seed-0 split."""
    from albert_tf.tagging import TaggingDataSpec, load_tagging_splits

    return load_tagging_splits(TaggingDataSpec(source="brown-corpus", train_limit=300,
                                               dev_limit=60, test_limit=60))


@pytest.fixture(scope="session")
def brown_spm(tmp_path_factory):
    """An 800-piece SentencePiece model trained on 2,000 Brown training sentences."""
    from albert_tf.tagging import TaggingDataSpec, load_tagging_splits
    from albert_tf.text import train_sentencepiece

    train = load_tagging_splits(TaggingDataSpec(source="brown-corpus", train_limit=2000))[0]
    path = tmp_path_factory.mktemp("tag_spm") / "brown.model"
    return str(train_sentencepiece([" ".join(w) for w in train.words], path, vocab_size=800))


@pytest.fixture(scope="session")
def tiny_tagger_factory(brown_spm):
    def build(sequence_length=SEQUENCE_LENGTH, num_classes=12):
        from albert_tf.tagging.model import build_token_classifier

        return build_token_classifier(dict(TINY_SHAPE), num_classes, tokenizer=brown_spm,
                                      sequence_length=sequence_length)

    return build


@pytest.fixture(scope="session")
def trained_tagger(tmp_path_factory, brown_splits, tiny_tagger_factory):
    """The tiny tagger fine-tuned on the Brown subset, saved; `(tagger, folder, summary)`."""
    import keras

    import albert_tf
    from albert_tf.tagging.model import save_token_classifier
    from albert_tf.train.config import FinetuneConfig

    keras.utils.set_random_seed(0)
    tagger = tiny_tagger_factory()
    run_dir = tmp_path_factory.mktemp("tag_run")
    # The one fine-tuning loop, through the token classification adapter.
    _, metrics = albert_tf.finetune(tagger, brown_splits,
                                    FinetuneConfig(epochs=5, batch_size=16, learning_rate=3e-3,
                                                   patience=0), run_dir=run_dir, verbose=0)
    folder = save_token_classifier(tagger, run_dir / "model", brown_splits.train.tag_names)
    return tagger, folder, metrics["training"]
