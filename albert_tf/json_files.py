"""JSON files that albert_tf writes: reports, metrics, manifests."""

import json
import os
from pathlib import Path


def write_json(data: dict, path: str | os.PathLike) -> Path:
    """Write `data` as indented JSON, atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path
