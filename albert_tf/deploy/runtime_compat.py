"""Which TFLite runtimes can run an artifact, established by running it.

A model that converts is not a model every device can run: runtimes know operators up to some
version, and raw-text models need TF Text's custom kernels. `runtime_compatibility(path)`
lists the artifact's operators and versions (read from the flatbuffer) and then actually loads
and invokes it with

* ai-edge-litert (this environment's runtime; custom TF Text ops are not registered, as on a
  device with only the plain runtime), and
* tflite-runtime 2.14.0, the last tflite-runtime release, in an isolated virtual environment
  that holds only that runtime, numpy<2 and sentencepiece (what the edge kit installs). The
  environment is created once with `python -m venv` + pip and cached under
  `<albert_tf cache>/runtimes/`. If it cannot be created (no index reachable, no wheel for this
  Python), the runtime is reported as "not checked" with pip's reason, never guessed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from albert_tf.deploy.tflite_ops import describe_ops

logger = logging.getLogger(__name__)

PROBE_SCRIPT = Path(__file__).with_name("tflite_runtime_probe.py")

# name -> pip requirements of an isolated runtime environment
RUNTIME_ENVIRONMENTS = {
    "tflite-runtime-2.14": ("tflite-runtime==2.14.0", "numpy<2", "sentencepiece"),
}
INSTALL_TIMEOUT_S = 900
PROBE_TIMEOUT_S = 300
_COMPLETE_MARKER = "albert_tf_environment.json"


def runtimes_dir() -> Path:
    """`<albert_tf cache>/runtimes`: where isolated runtime environments are kept."""
    from albert_tf.data.cache import cache_dir

    return cache_dir() / "runtimes"


def _environment_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def _run(command, timeout, cwd=None) -> subprocess.CompletedProcess:
    # A clean environment: nothing from this process' Python path leaks into the runtime's.
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd)


def ensure_runtime_environment(name: str = "tflite-runtime-2.14") -> tuple[Path | None, str]:
    """The Python of the isolated environment `name`, creating it on first use.

    Args:
        name: a key of `RUNTIME_ENVIRONMENTS`.

    Returns:
        `(python path, "")`, or `(None, reason)` when the environment cannot be created.
    """
    from albert_tf.data.cache import exclusive_lock

    requirements = RUNTIME_ENVIRONMENTS[name]
    folder = runtimes_dir() / name
    marker = folder / _COMPLETE_MARKER
    if marker.is_file():
        return _environment_python(folder), ""
    with exclusive_lock(runtimes_dir() / f"{name}.lock", f"runtime environment {name}"):
        if marker.is_file():  # another process finished it while we waited
            return _environment_python(folder), ""
        staging = runtimes_dir() / f".{name}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        logger.info("creating the isolated %s environment (%s) under %s", name,
                    ", ".join(requirements), folder)
        try:
            created = _run([sys.executable, "-m", "venv", str(staging)], 300)
            if created.returncode != 0:
                return None, f"python -m venv failed: {created.stderr.strip()[-500:]}"
            installed = _run([str(_environment_python(staging)), "-m", "pip", "install",
                              "--disable-pip-version-check", "--no-input", "--quiet",
                              *requirements], INSTALL_TIMEOUT_S)
            if installed.returncode != 0:
                return None, f"pip install {' '.join(requirements)} failed: " \
                             f"{installed.stderr.strip()[-800:]}"
            (staging / _COMPLETE_MARKER).write_text(json.dumps(
                {"requirements": list(requirements), "base_python": sys.version}) + "\n")
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(staging, folder)  # the venv only counts once complete
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"could not create the environment: {exc}"
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _environment_python(folder), ""


def probe_in_environment(path, name: str = "tflite-runtime-2.14") -> dict:
    """Load and invoke `path` inside the isolated environment `name`.

    Returns:
        `{"status": "runs" | "fails" | "not checked", "runtime", "detail"}`.
    """
    python, reason = ensure_runtime_environment(name)
    if python is None:
        return {"status": "not checked", "runtime": name, "detail": reason}
    try:
        completed = _run([str(python), str(PROBE_SCRIPT), str(Path(path).resolve())],
                         PROBE_TIMEOUT_S, cwd=str(python.parent))
    except subprocess.TimeoutExpired:
        return {"status": "fails", "runtime": name,
                "detail": f"no answer within {PROBE_TIMEOUT_S} s"}
    return _status_from_probe(completed, name)


def _status_from_probe(completed: subprocess.CompletedProcess, name: str) -> dict:
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        # The interpreter may abort the process (e.g. a crash in a kernel): that is "fails".
        return {"status": "fails", "runtime": name,
                "detail": f"probe exited with {completed.returncode}: "
                          f"{completed.stderr.strip()[-500:]}"}
    result = json.loads(lines[-1])
    status = "runs" if result.get("ran") else "fails"
    detail = result.get("error") or f"outputs {result.get('outputs')}"
    return {"status": status, "runtime": result.get("runtime") or name, "detail": detail,
            "loaded": result.get("loaded", False)}


def probe_ai_edge_litert(path) -> dict:
    """Load and invoke `path` with this environment's ai-edge-litert, no custom ops added."""
    completed = _run([sys.executable, str(PROBE_SCRIPT), str(Path(path).resolve())],
                     PROBE_TIMEOUT_S)
    return _status_from_probe(completed, "ai-edge-litert")


def probe_with_tf_text_ops(path) -> dict:
    """Run `path` with ai-edge-litert and TF Text's kernels registered (raw-text models)."""
    import numpy as np

    from albert_tf.deploy.tflite_runner import TFLiteRunner

    try:
        runner = TFLiteRunner(path)
        texts = ["a fine film"] * runner.batch_size
        pairs = texts if runner.takes_pairs else None
        probabilities = runner.predict_texts(texts, pairs) if runner.takes_text else \
            runner.predict_packed({name: np.ones((runner.batch_size, runner.sequence_length),
                                                 dtype) for name, dtype in
                                   (("token_ids", np.int32), ("segment_ids", np.int32),
                                    ("padding_mask", np.int32))})
    except Exception as exc:  # the runtime's own words
        return {"status": "fails", "runtime": "ai-edge-litert+tensorflow-text",
                "detail": f"{type(exc).__name__}: {exc}"}
    return {"status": "runs", "runtime": "ai-edge-litert+tensorflow-text",
            "detail": f"outputs {{'probabilities': {list(probabilities.shape)}}}"}


def runtime_compatibility(path, check_tflite_runtime: bool = True,
                          write_report: bool = True) -> dict:
    """Operators, versions and the runtimes that run a `.tflite` file.

    Args:
        path: the `.tflite` file.
        check_tflite_runtime: also probe tflite-runtime 2.14 in its isolated environment
            (created on first use: about 40 s and 120 MB); False reports it as not checked.
        write_report: also write the result to `<path>.runtimes.json`.

    Returns:
        `{"path", "operators": [{"op", "version", "count", ...}], "custom_ops",
        "runtimes": {"ai-edge-litert": {...}, "tflite-runtime-2.14": {...}}}` where each
        runtime has `status` "runs", "fails" or "not checked" and the runtime's own `detail`.
    """
    ops = describe_ops(path)
    runtimes = {"ai-edge-litert": probe_ai_edge_litert(path)}
    if check_tflite_runtime:
        runtimes["tflite-runtime-2.14"] = probe_in_environment(path)
    else:
        runtimes["tflite-runtime-2.14"] = {"status": "not checked", "runtime": "tflite-runtime-2.14",
                                           "detail": "skipped on request"}
    if ops["custom_ops"]:
        note = ("needs the TF Text custom ops registered by the application "
                "(tensorflow_text.tflite_registrar / a runtime built with them)")
        for report in runtimes.values():
            report.setdefault("note", note)
        runtimes["ai-edge-litert+tensorflow-text"] = probe_with_tf_text_ops(path)
    report = {"path": str(path), "operators": ops["operators"], "custom_ops": ops["custom_ops"],
              "runtimes": runtimes}
    if write_report:
        from albert_tf.json_files import write_json

        write_json(report, Path(str(path) + ".runtimes.json"))
    return report
