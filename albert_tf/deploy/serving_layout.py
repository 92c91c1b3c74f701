"""TF Serving's folder layout and its `models.config`.

    <root>/
      models.config             model_config_list with one entry per model folder
      <model_name>/
        <version>/              a SavedModel (integer folder name; the server loads the highest)
          saved_model.pb
          variables/
          assets/
          assets.extra/tf_serving_warmup_requests

A version folder appears by one rename of a complete folder, so a server polling the base path
never loads a half-written version.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from albert_tf.errors import UserError, check_plain_name

CONFIG_FILE = "models.config"


def check_model_name(name: str) -> str:
    """A model name usable as a folder and in TF Serving URLs (`/v1/models/<name>`)."""
    return check_plain_name(name or "", "model name")


def check_version(version) -> int:
    """TF Serving versions are positive integers (the folder name)."""
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise UserError(f"version must be a whole number >= 1. Received: {version!r}") from None
    if number < 1 or str(version).strip() != str(number):
        raise UserError(f"version must be a whole number >= 1. Received: {version!r}")
    return number


def version_dir(root, model_name: str, version: int) -> Path:
    """`<root>/<model_name>/<version>`."""
    return Path(root) / check_model_name(model_name) / str(check_version(version))


def staging_dir(root, model_name: str, version: int) -> Path:
    """Where a version is written before it is renamed into place (not an integer name)."""
    return Path(root) / model_name / f".staging-{version}-{os.getpid()}"


def publish_version(staging: Path, target: Path, overwrite: bool = False) -> Path:
    """Rename a complete staging folder to its version folder."""
    if target.exists():
        if not overwrite:
            shutil.rmtree(staging, ignore_errors=True)
            raise UserError(f"{target} already exists: choose another version or overwrite")
        shutil.rmtree(target)
    os.replace(staging, target)
    return target


def served_models(root) -> list[str]:
    """Model folders under `root` holding at least one integer version folder."""
    root = Path(root)
    names = []
    for child in sorted(root.iterdir()) if root.is_dir() else []:
        if child.is_dir() and any(v.is_dir() and v.name.isdigit() for v in child.iterdir()):
            names.append(child.name)
    return names


def models_config_text(models: dict[str, str]) -> str:
    """`models.config` (text protobuf `ModelServerConfig`) for `{name: base_path}`."""
    entries = "".join(
        "  config {\n"
        f'    name: "{name}"\n'
        f'    base_path: "{base_path}"\n'
        '    model_platform: "tensorflow"\n'
        "  }\n"
        for name, base_path in models.items())
    return "model_config_list {\n" + entries + "}\n"


# Where the documented `docker run -v "$PWD/serving:/models" tensorflow/serving` mounts the
# serving root: `models.config` names model folders as the server sees them, not as this
# machine does (an absolute host path would not exist inside the container).
SERVING_MOUNT = "/models"


def write_models_config(root, base_path_prefix: str | None = None) -> Path:
    """Write `<root>/models.config` listing every model folder under `root`.

    Args:
        root: the serving root.
        base_path_prefix: the root as the server sees it: default `/models`, where the
            tensorflow/serving container in `export/serving/README.md` mounts it; give the
            absolute local path for a `tensorflow_model_server` run on this machine.
    """
    root = Path(root)
    prefix = (base_path_prefix or SERVING_MOUNT).rstrip("/") or "/"
    if not prefix.startswith("/"):
        raise UserError(f"the serving base path must be absolute, as the server sees it "
                        f"(e.g. {SERVING_MOUNT}). Received: {base_path_prefix!r}")
    text = models_config_text({name: f"{prefix}/{name}" for name in served_models(root)})
    _check_parses(text)
    path = root / CONFIG_FILE
    tmp = root / f".{CONFIG_FILE}.tmp-{os.getpid()}"
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def _check_parses(text: str) -> None:
    """The text must parse as TF Serving's `ModelServerConfig` proto."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
