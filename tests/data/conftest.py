"""Fixtures for the data tests.

Real sources are fetched into the user's cache (`~/.cache/albert_tf` or `$ALBERT_TF_CACHE`)
once per machine; tests that break or race fetches use a temporary cache of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from albert_tf.data.fetch import fetch_cached_copy

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rotten_copy():
    """The verified rotten-tomatoes copy in the real cache (fetched on first use)."""
    return fetch_cached_copy("rotten-tomatoes")


@pytest.fixture(scope="session")
def snippets_copy():
    """The verified movie-snippets copy in the real cache."""
    return fetch_cached_copy("movie-snippets")


@pytest.fixture(scope="session")
def brown_copy():
    """The verified brown-corpus copy in the real cache."""
    return fetch_cached_copy("brown-corpus")


@pytest.fixture(scope="session")
def brown_sentences(brown_copy):
    """`load_brown_sentences()` (Brown tags), read once."""
    from albert_tf.data import load_brown_sentences

    return load_brown_sentences()


@pytest.fixture(scope="session")
def combined_sentiment(rotten_copy, snippets_copy):
    """rotten-tomatoes+movie-snippets as loaded by `load_source`."""
    from albert_tf.data import load_source

    return load_source("rotten-tomatoes+movie-snippets")


@pytest.fixture
def temp_cache(tmp_path, monkeypatch):
    """An empty cache folder, set as $ALBERT_TF_CACHE for this test (and its subprocesses)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ALBERT_TF_CACHE", str(cache))
    return cache


@pytest.fixture
def start_python():
    """Starts `python -c code` in its own process group, with the repo importable and a given
    ALBERT_TF_CACHE."""

    def start(code: str, cache: Path) -> subprocess.Popen:
        env = dict(os.environ, ALBERT_TF_CACHE=str(cache), PYTHONPATH=str(REPO_ROOT))
        return subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    return start
