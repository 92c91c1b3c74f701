"""Session fixtures shared across test folders (small real data, a tiny tokenizer), and how
the suite is split between pytest-xdist workers."""

from pathlib import Path

import pytest

# Folders whose expensive session fixtures (trained models, exported files, virtual
# environments) serve several test files: their tests share one worker, so each fixture is
# built once. Elsewhere the file is the unit, so module fixtures are built once too.
ONE_WORKER_FOLDERS = {"bench", "deploy", "kits", "tagging"}


def worker_unit(nodeid: str) -> str:
    """The unit of tests that one pytest-xdist worker runs together: a folder of
    `ONE_WORKER_FOLDERS`, otherwise the test's file."""
    path = nodeid.split("::", 1)[0]
    parts = Path(path).parts
    return parts[1] if len(parts) > 2 and parts[1] in ONE_WORKER_FOLDERS else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Schedule by `worker_unit` (`make test` runs two workers). Not `--dist loadgroup` with
    `xdist_group` marks: with pytest 9.2 that silently stops grouping (pytest-xdist #1386)."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkerUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_unit(nodeid)

    return WorkerUnitScheduling(config, log)


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
