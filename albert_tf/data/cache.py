"""Where fetched sources live, and the pieces that make a cached copy trustworthy.

Layout under `cache_dir()`:

    sources/<name>-<version>/            a complete, verified copy (renamed into place whole)
    sources/<name>-<version>/MANIFEST.json   written last: pin + sha256 and size of every file
    staging/<name>-<version>/<attempt>/  a fetch in progress (only the lock holder touches it)
    locks/<name>-<version>.lock          fcntl lock serialising fetches of that source

A copy counts as complete only if its folder exists under `sources/` with a manifest that
matches the current pin; because the folder is renamed into place after the manifest is
written, an interrupted fetch never leaves such a folder behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

CACHE_ENV_VAR = "ALBERT_TF_CACHE"
MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = 1


def cache_dir() -> Path:
    """The cache root: `$ALBERT_TF_CACHE` if set, else `~/.cache/albert_tf` (not created here)."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return Path("~/.cache/albert_tf").expanduser()


def sha256_of_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks.

    Args:
        path: the file.
        chunk_size: bytes read at a time.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(folder: Path) -> dict[str, dict]:
    """`{relative path: {"size", "sha256"}}` for every file under `folder` except the manifest.

    Args:
        folder: the extracted copy.
    """
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST_NAME:
            files[rel] = {"size": path.stat().st_size, "sha256": sha256_of_file(path)}
    return files


def write_manifest(folder: Path, manifest: dict) -> Path:
    """Write `MANIFEST.json` into `folder` via a temporary name and a rename.

    Args:
        folder: the staging copy the manifest describes.
        manifest: the JSON-serialisable content.
    """
    path = folder / MANIFEST_NAME
    tmp = folder / f".{MANIFEST_NAME}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"format": MANIFEST_FORMAT, **manifest}, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def read_manifest(folder: Path) -> dict | None:
    """The manifest of a cached copy, or None when it is missing or unreadable.

    Args:
        folder: a folder under `sources/`.
    """
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT else None


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive `fcntl.flock` on `lock_path` (created if needed) for the block.

    The kernel releases the lock when the process dies, so a killed fetch never blocks later
    ones.

    Args:
        lock_path: the lock file.
        what: a description for the "waiting" log line.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("waiting for another process that is fetching %s", what)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
