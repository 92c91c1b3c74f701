"""Keep TensorFlow's C++ start-up lines off the terminal, without importing it early.

TensorFlow 2.21 logs through absl before absl's logging is initialised, and such lines
(`I0000 ... oneDNN custom operations are on`, `cudart_stub.cc ... Could not find cuda
drivers`, `E0000 ... cuInit`) go to stderr whatever `TF_CPP_MIN_LOG_LEVEL` says. They would
come before albert_tf's own one-line error. So, when `tensorflow` is first imported, file
descriptor 2 points at a temporary file for the length of that import; if the import fails,
what it wrote is replayed. Sub-commands that never need TensorFlow never import it.
"""

import importlib.abc
import importlib.machinery
import os
import sys
import tempfile


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                self.loader.exec_module(module)
            except BaseException:
                os.dup2(saved, 2)
                capture.seek(0)
                os.write(2, capture.read())
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the wrapped import is the only one
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_start_up() -> None:
    """Silence the C++ lines TensorFlow prints while it is imported (no-op once imported)."""
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietTensorFlowFinder)
                                         for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())
