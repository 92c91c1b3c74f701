"""Session fixtures shared across test folders (small real data, a tiny tokenizer), how the
suite is split between pytest-xdist workers, and the two tiers.

Tiers: `make test` runs everything; `make test-fast` runs `-m "not slow"` with
`ALBERT_TF_HERMETIC=1`. A test is `slow` when it is marked so, when it needs real data (a
fixture of `REGISTRY_FIXTURES`, which fetch from PyPI / npm on first use), or when it uses a
session fixture of these conftests (built once for several files: trained models, exports,
environments). In the hermetic tier a registry download fails the test, so a test that needs
one and is not marked shows up.
"""

import os
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


# Session fixtures that fetch named sources from the package registries.
REGISTRY_FIXTURES = {"rotten_tomatoes_small", "sentencepiece_model", "minilm_folder",
                     "rotten_copy", "snippets_copy", "brown_copy"}
HERMETIC = os.environ.get("ALBERT_TF_HERMETIC") == "1"


def _shared_fixtures(item) -> set[str]:
    """The session fixtures of this suite's conftests that `item` uses: costly things built
    once for several test files (data, trained models, exported files, environments)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    return {name for name, defs in info.name2fixturedefs.items()
            if any(d.scope == "session" and d.baseid.startswith("tests") for d in defs)}


def pytest_collection_modifyitems(config, items):
    for item in items:
        needs_data = REGISTRY_FIXTURES & set(getattr(item, "fixturenames", ()))
        if needs_data or _shared_fixtures(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _hermetic_tier(monkeypatch, tmp_path_factory):
    """In the hermetic tier, an empty data cache and no registry downloads."""
    if not HERMETIC:
        yield
        return
    monkeypatch.setenv("ALBERT_TF_CACHE", str(tmp_path_factory.mktemp("empty-cache")))

    def refuse(*args, **kwargs):
        raise RuntimeError("the hermetic tier (make test-fast) allows no registry download: "
                           "mark this test `slow`")

    monkeypatch.setattr("albert_tf.data.fetch.download_pinned_file", refuse)
    yield


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
    from albert_tf.data.spec import DataSpec, load_splits

    return load_splits(DataSpec(source="rotten-tomatoes", train_limit=400, dev_limit=100,
                                test_limit=100))


@pytest.fixture(scope="session")
def minilm_folder():
    """The MiniLM teacher's model folder (Hugging Face BERT files, uncased WordPiece)."""
    from albert_tf.data import fetch_source

    return Path(fetch_source("minilm-teacher"))


@pytest.fixture(scope="session")
def sentencepiece_model(tmp_path_factory, rotten_tomatoes_small):
    """A 1,000-piece ALBERT SentencePiece model trained on the small training split."""
    from albert_tf.text import train_sentencepiece

    train = rotten_tomatoes_small[0]
    path = tmp_path_factory.mktemp("spm") / "rt.model"
    return str(train_sentencepiece(train.texts, path, vocab_size=1000))
