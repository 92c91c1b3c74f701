"""Load and run a `.tflite` file with whichever interpreter package is installed; print JSON.

This file is executed as a script inside isolated environments that hold only a runtime
(e.g. tflite-runtime 2.14 with numpy<2), so it imports nothing from albert_tf or TensorFlow.
Usage: `python tflite_runtime_probe.py MODEL.tflite`.

Output (one JSON object on stdout): `runtime` (package and version), `loaded`, `ran`, the
output names and shapes, and `error` (the runtime's own message) when something failed.
"""

import json
import sys


def _interpreter_class():
    try:
        from tflite_runtime import __version__ as version
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, f"tflite-runtime {version}"
    except ImportError:
        from ai_edge_litert.interpreter import Interpreter

        try:
            from importlib.metadata import version as package_version

            version = package_version("ai-edge-litert")
        except Exception:  # metadata missing: still say which package ran
            version = "unknown"
        return Interpreter, f"ai-edge-litert {version}"


def _feed(detail):
    """A valid input for one signature input: a short text, ids of `<unk>`, a full mask."""
    import numpy as np

    shape = [max(int(d), 1) for d in detail["shape"]]
    dtype = detail["dtype"]
    if dtype == np.object_ or dtype == np.bytes_:
        return np.full(shape, b"a fine film", dtype=object)
    if dtype == np.bool_:
        return np.ones(shape, dtype=bool)
    if np.issubdtype(dtype, np.integer):
        return np.ones(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype)


def probe(path):
    result = {"loaded": False, "ran": False}
    try:
        interpreter_class, runtime = _interpreter_class()
    except ImportError as exc:
        result.update(runtime=None, error=f"no TFLite runtime importable: {exc}")
        return result
    result["runtime"] = runtime
    try:
        interpreter = interpreter_class(model_path=path)
        result["loaded"] = True
        signatures = interpreter.get_signature_list()
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
        runner = interpreter.get_signature_runner(key)
        feeds = {name: _feed(detail) for name, detail in runner.get_input_details().items()}
        outputs = runner(**feeds)
        result["ran"] = True
        result["outputs"] = {name: list(value.shape) for name, value in outputs.items()}
    except Exception as exc:  # report the runtime's own words, whatever they are
        result["error"] = f"{type(exc).__name__}: {exc}".strip()
    return result


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tflite_runtime_probe.py MODEL.tflite")
    print(json.dumps(probe(sys.argv[1])))
