"""Extract tar and zip archives without letting any member land outside the destination.

Rejected: absolute member names, names with a `..` component, symbolic or hard links whose
target resolves outside the destination, and anything that is not a file, folder or link
(devices, fifos). Each member's final path is checked with `os.path.realpath` just before it
is written, so a link extracted earlier cannot be used to escape later either. Permissions
are reset to 0644 / 0755 (no setuid bits, no owners from the archive).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from albert_tf.errors import UserError


class UnsafeArchiveError(UserError):
    """An archive member would be written outside the extraction folder (or is not a plain file)."""


@dataclass(frozen=True)
class _Member:
    name: str  # path inside the archive, "/"-separated
    kind: str  # "file", "dir", "symlink" or "hardlink"
    link_target: str | None  # for links: the target as stored in the archive
    executable: bool
    open: Callable[[], BinaryIO] | None  # for files: a reader of the content


def safe_extract(
    archive: str | os.PathLike, destination: str | os.PathLike, select: str | None = None
) -> list[Path]:
    """Extract `archive` (tar, tar.gz, tar.bz2, tar.xz, zip, wheel) into `destination`.

    Every member name in the archive is validated, even those not selected, so a hostile
    archive is refused as a whole.

    Args:
        archive: the archive file.
        destination: the folder to extract into (created if missing).
        select: extract only this member, or every member under this folder path
            (e.g. `"package/"` or `"pkg/data/file.csv"`); None extracts everything.

    Returns:
        The paths written (files and links), in archive order.

    Raises:
        UnsafeArchiveError: a member is absolute, contains `..`, links outside, or is a device.
        UserError: the file is not a supported archive, or `select` matches no member.
    """
    archive = Path(archive)
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(destination)
    written: list[Path] = []
    with _open_members(archive) as members:
        members = list(members)
        for member in members:
            _check_name(archive, member.name)
        wanted = [m for m in members if _is_selected(m.name, select)]
        if select is not None and not wanted:
            raise UserError(f"archive {archive.name} has no member {select!r}")
        for member in wanted:
            written.extend(_write_member(archive, member, root))
    return written


def _is_selected(name: str, select: str | None) -> bool:
    if select is None:
        return True
    name = name.rstrip("/")
    select = select.rstrip("/")
    return name == select or name.startswith(select + "/")


def _check_name(archive: Path, name: str) -> None:
    if not name or "\x00" in name:
        raise UnsafeArchiveError(
            f"archive {archive.name}: empty or NUL-containing member name {name!r}; refusing it"
        )
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"archive {archive.name}: member {name!r} has an absolute path; refusing it")
    if ".." in name.replace("\\", "/").split("/"):
        raise UnsafeArchiveError(f"archive {archive.name}: member {name!r} contains '..'; refusing it")


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _write_member(archive: Path, member: _Member, root: str) -> list[Path]:
    target = os.path.join(root, *member.name.rstrip("/").split("/"))
    # realpath follows links already extracted, so a link planted earlier cannot redirect this write.
    if not _inside(root, os.path.realpath(target)):
        raise UnsafeArchiveError(
            f"archive {archive.name}: member {member.name!r} resolves outside the destination"
        )
    if member.kind == "dir":
        os.makedirs(target, exist_ok=True)
        return []
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if not _inside(root, os.path.realpath(os.path.dirname(target))):
        raise UnsafeArchiveError(
            f"archive {archive.name}: member {member.name!r} resolves outside the destination"
        )
    if member.kind == "symlink":
        link = member.link_target or ""
        if os.path.isabs(link) or link.startswith("\\"):
            raise UnsafeArchiveError(
                f"archive {archive.name}: link {member.name!r} -> {link!r} is absolute; refusing it"
            )
        resolved = os.path.realpath(os.path.join(os.path.dirname(target), link))
        if not _inside(root, resolved):
            raise UnsafeArchiveError(
                f"archive {archive.name}: link {member.name!r} -> {link!r} points outside the destination"
            )
        if os.path.lexists(target):
            os.remove(target)
        os.symlink(link, target)
        return [Path(target)]
    if member.kind == "hardlink":
        # A tar hard link names another member (relative to the archive root): copy its bytes.
        _check_name(archive, member.link_target or "")
        source = os.path.realpath(os.path.join(root, *member.link_target.split("/")))
        if not _inside(root, source) or not os.path.isfile(source):
            raise UnsafeArchiveError(
                f"archive {archive.name}: hard link {member.name!r} -> {member.link_target!r} "
                "does not name a file extracted before it"
            )
        shutil.copyfile(source, target)
        os.chmod(target, 0o644)
        return [Path(target)]
    if os.path.lexists(target):
        os.remove(target)  # never write through an existing link
    with member.open() as src, open(target, "xb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 20)
    os.chmod(target, 0o755 if member.executable else 0o644)
    return [Path(target)]


class _open_members:
    """Context manager yielding the archive's members as `_Member`s (zip or tar)."""

    def __init__(self, archive: Path):
        self.archive = archive
        self._handle = None

    def __enter__(self) -> Iterator[_Member]:
        if not self.archive.is_file():
            raise UserError(f"archive {self.archive} does not exist")
        if zipfile.is_zipfile(self.archive):
            self._handle = zipfile.ZipFile(self.archive)
            return self._zip_members(self._handle)
        try:
            self._handle = tarfile.open(self.archive, mode="r:*")
        except tarfile.TarError:
            raise UserError(f"{self.archive.name} is neither a zip nor a tar archive") from None
        return self._tar_members(self._handle)

    def __exit__(self, *exc):
        if self._handle is not None:
            self._handle.close()
        return False

    def _zip_members(self, zf: zipfile.ZipFile) -> Iterator[_Member]:
        for info in zf.infolist():
            # Unix mode bits are in the high word only for archives made on Unix (create_system 3);
            # a file-type field of 0 (seen in wheels) means a regular file.
            mode = info.external_attr >> 16 if info.create_system == 3 else 0
            file_type = stat.S_IFMT(mode)
            if file_type == stat.S_IFLNK:
                yield _Member(info.filename, "symlink", zf.read(info).decode("utf-8"), False, None)
            elif info.is_dir():
                yield _Member(info.filename, "dir", None, False, None)
            elif file_type not in (0, stat.S_IFREG):
                raise UnsafeArchiveError(
                    f"archive {self.archive.name}: member {info.filename!r} is not a regular file"
                )
            else:
                yield _Member(
                    info.filename, "file", None, bool(mode & 0o111), lambda info=info: zf.open(info)
                )

    def _tar_members(self, tf: tarfile.TarFile) -> Iterator[_Member]:
        for info in tf.getmembers():
            if info.isdir():
                yield _Member(info.name, "dir", None, False, None)
            elif info.issym():
                yield _Member(info.name, "symlink", info.linkname, False, None)
            elif info.islnk():
                yield _Member(info.name, "hardlink", posixpath.normpath(info.linkname), False, None)
            elif info.isfile():
                yield _Member(
                    info.name, "file", None, bool(info.mode & 0o111), lambda info=info: tf.extractfile(info)
                )
            else:
                raise UnsafeArchiveError(
                    f"archive {self.archive.name}: member {info.name!r} is a device, fifo or other "
                    "special file; refusing it"
                )
