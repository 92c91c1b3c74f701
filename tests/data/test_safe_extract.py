"""The safe extractor: good archives extract, hostile members are refused as a whole."""

import io
import stat
import tarfile
import zipfile

import pytest

from albert_tf.data.safe_extract import UnsafeArchiveError, safe_extract
from albert_tf.errors import UserError


def _tar(path, members):
    """Write a tar.gz; members: (name, kind, payload) with kind file / symlink / hardlink / fifo."""
    with tarfile.open(path, "w:gz") as tf:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
                continue
            info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[
                kind
            ]
            info.linkname = payload or ""
            tf.addfile(info)
    return path


def test_extracts_selected_folder_of_a_tar(tmp_path):
    archive = _tar(
        tmp_path / "ok.tar.gz",
        [("pkg/data/a.txt", "file", "A"), ("pkg/data/sub/b.txt", "file", "B"), ("pkg/other.txt", "file", "O"),
         ("pkg/data/link", "symlink", "a.txt")],
    )  # fmt: skip
    written = safe_extract(archive, tmp_path / "out", select="pkg/data/")
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "pkg/data/a.txt",
        "pkg/data/link",
        "pkg/data/sub/b.txt",
    ]
    assert (out / "pkg/data/sub/b.txt").read_text() == "B"
    assert (out / "pkg/data/link").read_text() == "A"  # an inside link is kept
    assert not (out / "pkg/other.txt").exists()


@pytest.mark.parametrize(
    "member",
    [
        ("../escape.txt", "file", "x"),
        ("pkg/../../escape.txt", "file", "x"),
        ("/tmp/absolute.txt", "file", "x"),
        ("pkg/link", "symlink", "../../outside"),
        ("pkg/link", "symlink", "/etc/passwd"),
        ("pkg/hard", "hardlink", "../outside"),
        ("pkg/fifo", "fifo", None),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-abs", "hardlink-out", "fifo"],
)
def test_refuses_unsafe_tar_members(tmp_path, member):
    archive = _tar(tmp_path / "bad.tar.gz", [("pkg/ok.txt", "file", "fine"), member])
    out = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError):
        safe_extract(archive, out)
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "deep" / "outside").exists()


def test_unsafe_member_refused_even_when_not_selected(tmp_path):
    archive = _tar(tmp_path / "bad.tar.gz", [("pkg/ok.txt", "file", "fine"), ("../evil.txt", "file", "x")])
    with pytest.raises(UnsafeArchiveError, match=r"\.\."):
        safe_extract(archive, tmp_path / "out", select="pkg/ok.txt")
    assert not (tmp_path / "out" / "pkg" / "ok.txt").exists()


def test_link_chain_cannot_redirect_a_later_write(tmp_path):
    # "pkg/dir" -> "." is inside; writing "pkg/dir/../x" is refused by name, and a link to a
    # link that leaves the folder is refused when resolved.
    archive = _tar(
        tmp_path / "chain.tar.gz",
        [("pkg/a", "symlink", "b"), ("pkg/b", "symlink", "../../up"), ("pkg/a/file.txt", "file", "x")],
    )
    with pytest.raises(UnsafeArchiveError):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "up").exists()


def test_refuses_zip_with_dotdot_and_outside_symlink(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../../evil.txt", "x")
    with pytest.raises(UnsafeArchiveError):
        safe_extract(bad, tmp_path / "out")

    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("pkg/link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "../../../etc")
    with pytest.raises(UnsafeArchiveError, match="outside"):
        safe_extract(link, tmp_path / "out2")


def test_zip_member_selection_and_missing_member(tmp_path):
    archive = tmp_path / "w.whl"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg/model/config.json", "{}")
        zf.writestr("pkg/__init__.py", "")
    safe_extract(archive, tmp_path / "out", select="pkg/model/")
    assert (tmp_path / "out/pkg/model/config.json").read_text() == "{}"
    assert not (tmp_path / "out/pkg/__init__.py").exists()
    with pytest.raises(UserError, match="no member"):
        safe_extract(archive, tmp_path / "out", select="pkg/missing.txt")


def test_not_an_archive(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")
    with pytest.raises(UserError, match="neither a zip nor a tar"):
        safe_extract(plain, tmp_path / "out")
