"""A sha256 manifest of every file in a model folder albert_tf writes, checked on load.

A truncated `model.weights.h5`, a hand-edited `config.json` or flipped bits would otherwise
load without a word (or fail deep inside h5py / Keras with a traceback). The manifest is
written last into the temporary folder, before the rename that publishes it, so a folder
with a manifest is complete. A folder without one (a keras-hub preset downloaded or copied
by hand) loads with a warning.
"""

import json
import logging
import os
from pathlib import Path

from albert_tf.data.cache import sha256_of_file
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

MANIFEST = "albert_tf_files.json"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(folder: str | os.PathLike) -> Path:
    """Record the size and sha256 of every file under `folder` in `folder/MANIFEST`."""
    folder = Path(folder)
    entries = {str(p.relative_to(folder)): {"bytes": p.stat().st_size, "sha256": sha256_of_file(p)}
               for p in _files(folder)}
    path = folder / MANIFEST
    path.write_text(json.dumps({"files": entries}, indent=1, sort_keys=True))
    return path


def verify_model_folder(folder: str | os.PathLike) -> bool:
    """Check `folder` against its manifest; True when it has one and every file matches.

    Raises:
        UserError: a file listed in the manifest is missing, has another size (truncated)
            or other contents (corrupted or edited), or the manifest itself is unreadable.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        logger.warning("%s has no %s (not written by albert_tf, e.g. a downloaded preset): "
                       "its files are loaded unchecked", folder, MANIFEST)
        return False
    try:
        entries = json.loads(path.read_text())["files"]
        items = [(name, int(e["bytes"]), str(e["sha256"])) for name, e in entries.items()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path} is not a valid file manifest ({exc}): the model folder was "
                        "damaged; save or export the model again") from None
    for name, size, sha256 in items:
        file = folder / name
        if not file.is_file():
            raise UserError(f"{folder}: {name} is missing; the folder is incomplete")
        actual = file.stat().st_size
        if actual != size:
            raise UserError(f"{folder}: {name} has {actual:,} bytes where {size:,} were "
                            "written: it is truncated or was replaced")
        if sha256_of_file(file) != sha256:
            raise UserError(f"{folder}: {name} differs from what was written (its sha256 "
                            "does not match): the file is corrupted or was edited")
    return True


def load_preset_folder(load, folder: str | os.PathLike, options=None):
    """`load(str(folder), **options(folder))` (a keras-hub `from_preset`), after the manifest
    check, with a broken file reported as one line instead of a JSON or HDF5 traceback.

    `options`: reads further `load` arguments from the folder (e.g. its dtype policy), only
    once the manifest has vouched for the folder's files."""
    verify_model_folder(folder)
    try:
        return load(str(folder), **(options(folder) if options else {}))
    except UserError:
        raise
    except (ValueError, OSError, KeyError) as exc:
        raise UserError(f"cannot load the model in {folder}: {type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
