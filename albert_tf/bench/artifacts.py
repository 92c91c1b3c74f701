"""What gets measured: artifacts (Keras model, SavedModel, `.tflite`, `.onnx`) and how to run
each one on packed token inputs.

Every artifact is run by its own runtime: ai-edge-litert (XNNPACK) for `.tflite`, the loaded
`tokens` signature for a SavedModel, Keras' compiled predict function (`predict_on_batch`)
for the Keras model, ONNX Runtime for `.onnx`. TensorFlow's thread pools are fixed when it
starts, so the Keras model and SavedModels run with TensorFlow's own setting (all cores);
the other runtimes take a thread count per interpreter / session.
"""

from __future__ import annotations

import abc
import dataclasses
import gzip
import io
import os
import tarfile
from pathlib import Path

import numpy as np

from albert_tf.errors import UserError

KINDS = ("keras", "saved_model", "tflite", "onnx")
TOKEN_INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


@dataclasses.dataclass
class Artifact:
    """One thing to measure.

    Args:
        name: row label in the report.
        kind: one of `KINDS`.
        path: the file (`.tflite`, `.onnx`) or folder (SavedModel version folder, saved
            Keras classifier).
        model_dir: the saved Keras classifier this artifact was made from: its preprocessor
            packs the texts, its configuration gives parameters and FLOPs.
        role: "teacher" (the reference) or "model".
        mode: precision ("float32", "dynamic-int8", ...), when known.
    """

    name: str
    kind: str
    path: Path
    model_dir: Path
    role: str = "model"
    mode: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise UserError(f"unknown artifact kind {self.kind!r}: expected one of {KINDS}")
        self.path = Path(self.path)
        self.model_dir = Path(self.model_dir)


def tflite_mode(path: Path) -> str | None:
    """The precision mode `export_tflite` recorded beside the file (`<file>.json`)."""
    import json

    report = path.with_name(path.name + ".json")
    if report.is_file():
        return json.loads(report.read_text()).get("mode")
    return None


def size_on_disk(path: Path) -> int:
    """Bytes of a file, or of every file in a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def gzip_size(path: Path) -> int:
    """Bytes after gzip -6 (a folder is tarred first): what a download of it costs."""
    if path.is_file():
        return len(gzip.compress(path.read_bytes(), compresslevel=6))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(str(path), arcname=path.name)
    return len(gzip.compress(buffer.getvalue(), compresslevel=6))


def fixed_inputs(packed: dict, batch_size: int, sequence_length: int) -> dict:
    """`batch_size` examples of `packed`, cut or padded to `sequence_length` tokens."""
    n = len(packed["token_ids"])
    rows = np.arange(batch_size) % n
    out = {}
    for name in TOKEN_INPUT_NAMES:
        values = packed[name][rows]
        if values.shape[1] >= sequence_length:
            values = values[:, :sequence_length]
        else:
            pad = np.zeros((batch_size, sequence_length - values.shape[1]), values.dtype)
            values = np.concatenate([values, pad], axis=1)
        out[name] = np.ascontiguousarray(values.astype(np.int32))
    return out


class Predictor(abc.ABC):
    """Probabilities from one artifact. `shape` is its fixed `(batch, length)` or None.

    `predict(packed)` scores any number of examples (batched as the runtime needs);
    `call_for(batch, length)` returns a zero-argument callable running one batch of that
    shape, for timing (None where the artifact's shape is fixed to something else).
    """

    shape: tuple[int, int] | None = None

    @abc.abstractmethod
    def predict(self, packed: dict) -> np.ndarray:
        """Probabilities for every example of `packed` (token ids, segment ids, mask)."""

    @abc.abstractmethod
    def call_for(self, packed: dict, batch: int, length: int):
        """A zero-argument callable running one `(batch, length)` batch, or None."""


class ArrayFedPredictor(Predictor):
    """A runtime fed numpy arrays (ai-edge-litert, ONNX Runtime): a set `shape` is the only
    shape it runs; `_batch` makes the timed call from inputs already cut to that shape."""

    def call_for(self, packed: dict, batch: int, length: int):
        if self.shape is not None and self.shape != (batch, length):
            return None
        return self._batch(fixed_inputs(packed, batch, length), batch, length)

    @abc.abstractmethod
    def _batch(self, feed: dict, batch: int, length: int):
        """A zero-argument callable running `feed` once."""


class TFLitePredictor(ArrayFedPredictor):
    def __init__(self, path: Path, threads: int):
        from albert_tf.deploy import TFLiteRunner

        self.runner = TFLiteRunner(path, num_threads=threads)
        if self.runner.takes_text:
            raise UserError(f"{path} takes raw text: the bench measures token-input models")
        self.shape = (self.runner.batch_size, self.runner.sequence_length)

    def predict(self, packed):
        return self.runner.predict_packed(packed)

    def _batch(self, feed, batch, length):
        return lambda: self.runner.predict_packed(feed)


class SavedModelPredictor(Predictor):
    def __init__(self, path: Path):
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))
        if "tokens" not in loaded.signatures:
            raise UserError(f"{path} has no `tokens` signature: not an albert_tf SavedModel")
        self._loaded = loaded  # the signature needs its object alive
        self.function = loaded.signatures["tokens"]
        spec = self.function.structured_input_signature[1]["token_ids"]
        length = spec.shape[1]
        self.fixed_length = None if length is None else int(length)

    def predict(self, packed, batch_size: int = 64):
        import tensorflow as tf

        n = len(packed["token_ids"])
        parts = []
        for start in range(0, n, batch_size):
            feed = {k: tf.constant(packed[k][start:start + batch_size].astype(np.int32))
                    for k in TOKEN_INPUT_NAMES}
            parts.append(self.function(**feed)["probabilities"].numpy())
        return np.concatenate(parts)

    def call_for(self, packed, batch, length):
        if self.fixed_length is not None and length != self.fixed_length:
            return None
        import tensorflow as tf

        feed = {k: tf.constant(v) for k, v in fixed_inputs(packed, batch, length).items()}
        return lambda: self.function(**feed)["probabilities"].numpy()


class KerasPredictor(Predictor):
    def __init__(self, model):
        self.model = model
        self.max_length = int(model.backbone.get_config().get("max_sequence_length", 512))

    def predict(self, packed, batch_size: int = 64):
        from albert_tf.deploy.classifier_graph import _outputs_probabilities

        logits = self.model.predict(dict(packed), batch_size=batch_size, verbose=0)
        if _outputs_probabilities(self.model):
            return logits
        exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return exp / exp.sum(axis=-1, keepdims=True)

    def call_for(self, packed, batch, length):
        if length > self.max_length:
            return None
        feed = fixed_inputs(packed, batch, length)
        return lambda: self.model.predict_on_batch(feed)


class OnnxPredictor(ArrayFedPredictor):
    def __init__(self, path: Path, threads: int):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(path), options,
                                                    providers=["CPUExecutionProvider"])
        self.names = {}
        for item in self.session.get_inputs():
            key = next(k for k in TOKEN_INPUT_NAMES if k in item.name)
            self.names[key] = item.name
        shape = self.session.get_inputs()[0].shape
        self.shape = tuple(int(s) for s in shape) if all(
            isinstance(s, int) for s in shape) else None

    def _feed(self, packed):
        return {self.names[k]: packed[k].astype(np.int32) for k in self.names}

    def predict(self, packed):
        batch = self.shape[0] if self.shape else len(packed["token_ids"])
        n = len(packed["token_ids"])
        parts = []
        for start in range(0, n, batch):
            chunk = {k: v[start:start + batch] for k, v in packed.items()}
            rows = len(chunk["token_ids"])
            if rows < batch:
                chunk = {k: np.concatenate([v, np.repeat(v[-1:], batch - rows, 0)])
                         for k, v in chunk.items()}
            parts.append(self.session.run(None, self._feed(chunk))[0][:rows])
        return np.concatenate(parts)

    def _batch(self, feed, batch, length):
        feed = self._feed(feed)
        return lambda: self.session.run(None, feed)


def open_predictor(artifact: Artifact, threads: int, model=None) -> Predictor:
    """A `Predictor` for `artifact` (`model`: its loaded Keras classifier, kind "keras")."""
    if not artifact.path.exists():
        raise UserError(f"{artifact.kind} artifact not found: {artifact.path}")
    if artifact.kind == "tflite":
        try:
            return TFLitePredictor(artifact.path, threads)
        except (ValueError, RuntimeError) as exc:  # what the interpreter raises for bad bytes
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"{artifact.path} is not a TFLite model the interpreter can load "
                            f"(truncated or another kind of file?): {first}") from None
    if artifact.kind == "saved_model":
        return SavedModelPredictor(artifact.path)
    if artifact.kind == "onnx":
        return OnnxPredictor(artifact.path, threads)
    return KerasPredictor(model)


def is_tensorflow_runtime(kind: str) -> bool:
    return kind in ("keras", "saved_model")


def tensorflow_threads() -> int:
    """Threads TensorFlow's intra-op pool uses in this process (0 means all cores)."""
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1
