"""Session fixtures shared across test folders: small real data and a tiny tokenizer; and how
the suite is split between pytest-xdist workers."""

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# Folders whose expensive session fixtures (trained models, exported files, virtual
# environments) serve several test files: their tests share one worker, so each fixture is
# built once. Elsewhere the file is the unit, so module fixtures are built once too.
ONE_WORKER_FOLDERS = {"bench", "deploy", "kits", "tagging"}


def pytest_collection_modifyitems(config, items):
    """Tag every test with its xdist group (used by `--dist loadgroup`; harmless without)."""
    for item in items:
        parts = Path(item.fspath).relative_to(TESTS).parts
        group = parts[0] if parts[0] in ONE_WORKER_FOLDERS else "/".join(parts)
        item.add_marker(pytest.mark.xdist_group(group))


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
