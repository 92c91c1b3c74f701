"""Helpers for the kit tests: import the kit scripts, build cached kit venvs, run scripts."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EDGE_KIT = REPO / "export" / "edge"
SERVING_KIT = REPO / "export" / "serving"
SEQUENCE_LENGTH = 32
INSTALL_TIMEOUT_S = 900


def load_kit_module(path: Path, name: str):
    """Import a kit script as a module (the kits are not packages; the script's folder goes
    on `sys.path`, as when it runs, for the modules beside it such as `kit_common`)."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses / typing look the module up by name
    spec.loader.exec_module(module)
    return module


def isolated_env() -> dict:
    """The environment for a kit venv's python: nothing of this process's Python leaks in."""
    return {key: value for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def kit_venv(requirements: Path) -> Path:
    """The python of a venv holding exactly `requirements`, created on first use and cached."""
    from albert_tf.data.cache import cache_dir, exclusive_lock

    digest = hashlib.sha256(requirements.read_bytes()
                            + sys.version.split()[0].encode()).hexdigest()[:16]
    root = cache_dir() / "kit-venvs"
    folder = root / f"{requirements.stem}-{digest}"
    python = folder / "bin" / "python"
    marker = folder / "COMPLETE"
    if marker.is_file():
        return python
    with exclusive_lock(root / f"{folder.name}.lock", f"kit venv {folder.name}"):
        if marker.is_file():
            return python
        staging = root / f".{folder.name}.staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True,
                           env=isolated_env(), timeout=300)
            installed = subprocess.run(
                [str(staging / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", "--no-input", "-r", str(requirements)],
                env=isolated_env(), capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
            if installed.returncode != 0:
                pytest.fail(f"pip install -r {requirements} failed:\n{installed.stderr[-2000:]}")
            (staging / "COMPLETE").write_text(requirements.read_text())
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return python


def run_kit(python: Path, script: Path, *args, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run a kit script with a venv's python, from a folder outside the repository."""
    return subprocess.run([str(python), str(script), *map(str, args)], capture_output=True,
                          text=True, env=isolated_env(), cwd=tempfile.gettempdir(), timeout=timeout)


def keras_probabilities(model, texts, pairs=None):
    """The Keras model's own class probabilities for raw texts (albert_tf's reference)."""
    from albert_tf.deploy.classifier_graph import keras_probabilities as reference
    from albert_tf.deploy.classifier_graph import pack_texts

    return reference(model, pack_texts(model, texts, pairs))


def read_json_output(completed: subprocess.CompletedProcess) -> dict:
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)
