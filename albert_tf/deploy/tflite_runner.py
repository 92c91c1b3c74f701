"""Run a `.tflite` classifier with ai-edge-litert: packed token tensors or raw text in.

The runner reads the artifact's own signatures, so the same code drives every mode: float
inputs and outputs, int8 outputs (dequantised here with the tensor's scale and zero point),
and raw-text models whose TF Text custom ops are registered through
`InterpreterWithCustomOps(custom_op_registerers=tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS)`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from albert_tf.deploy.classifier_graph import PROBABILITIES, TOKEN_INPUT_NAMES
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

CLASSIFY_SIGNATURE = "serving_default"
ENCODE_SIGNATURE = "encode"
TEXT_INPUT = "text"
PAIR_INPUT = "text_pair"


def _dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Float values of a (possibly int8) output tensor."""
    if values.dtype in (np.int8, np.uint8, np.int16):
        scale, zero_point = detail["quantization"]
        return (values.astype(np.float32) - zero_point) * scale
    return values.astype(np.float32)


class TFLiteRunner:
    """An ai-edge-litert interpreter around one `.tflite` classifier.

    Args:
        model: path of the `.tflite` file, or its bytes.
        num_threads: CPU threads for the interpreter.

    Examples:
    >>> runner = TFLiteRunner("model.tflite")  # doctest: +SKIP
    >>> runner.predict_packed(packed).shape  # doctest: +SKIP
    (100, 2)
    """

    def __init__(self, model, num_threads: int = 1):
        from ai_edge_litert.interpreter import InterpreterWithCustomOps

        if isinstance(model, (str, os.PathLike)):
            path = Path(model)
            if not path.is_file():
                raise UserError(f"TFLite model not found: {path}")
            content = path.read_bytes()
        else:
            content = bytes(model)
        registerers = []
        if b"TFText>" in content or b"RaggedTensorToTensor" in content:
            import tensorflow_text

            registerers = list(tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS)
        self.interpreter = InterpreterWithCustomOps(
            model_content=content, custom_op_registerers=registerers, num_threads=num_threads)
        self.signatures = self.interpreter.get_signature_list()
        if CLASSIFY_SIGNATURE not in self.signatures:
            raise UserError(f"the TFLite model has no {CLASSIFY_SIGNATURE!r} signature "
                            f"(found {sorted(self.signatures)}): not an albert_tf export")
        self._classify = self.interpreter.get_signature_runner(CLASSIFY_SIGNATURE)
        self._input_details = self._classify.get_input_details()
        self._output_details = self._classify.get_output_details()
        self.takes_text = TEXT_INPUT in self._input_details
        self.takes_pairs = PAIR_INPUT in self._input_details
        first = self._input_details[TEXT_INPUT if self.takes_text else TOKEN_INPUT_NAMES[0]]
        self.batch_size = int(first["shape"][0])
        self.sequence_length = None if self.takes_text else int(first["shape"][1])

    def _run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        outputs = self._classify(**inputs)
        return _dequantize(outputs[PROBABILITIES], self._output_details[PROBABILITIES])

    def _batches(self, n: int):
        for start in range(0, n, self.batch_size):
            yield start, min(start + self.batch_size, n)

    def _padded(self, values: np.ndarray, rows: int) -> np.ndarray:
        """Fill a short last batch (`rows` real rows) up to the fixed batch size."""
        missing = self.batch_size - rows
        if missing <= 0:
            return values
        return np.concatenate([values, np.repeat(values[-1:], missing, axis=0)])

    def predict_packed(self, packed: dict[str, np.ndarray]) -> np.ndarray:
        """Probabilities `[n, classes]` for packed inputs (`token_ids`, `segment_ids`, ...)."""
        if self.takes_text:
            raise UserError("this TFLite model takes raw text: call predict_texts")
        n = len(packed[TOKEN_INPUT_NAMES[0]])
        length = packed[TOKEN_INPUT_NAMES[0]].shape[1]
        if length != self.sequence_length:
            raise UserError(f"the TFLite model takes {self.sequence_length} tokens per example, "
                            f"the inputs have {length}: pack them with the model's preprocessor")
        parts = []
        for start, stop in self._batches(n):
            batch = {}
            for name in TOKEN_INPUT_NAMES:
                dtype = self._input_details[name]["dtype"]
                batch[name] = self._padded(packed[name][start:stop].astype(dtype), stop - start)
            parts.append(self._run(batch)[:stop - start])
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    def predict_texts(self, texts, pairs=None) -> np.ndarray:
        """Probabilities `[n, classes]` for raw strings (raw-text models only)."""
        if not self.takes_text:
            raise UserError("this TFLite model takes token ids: pack the texts with the "
                            "model's preprocessor and call predict_packed")
        if (pairs is not None) != self.takes_pairs:
            raise UserError("the TFLite model takes text pairs" if self.takes_pairs
                            else "the TFLite model takes single texts, not pairs")
        texts = np.asarray([t.encode("utf-8") for t in texts], dtype=object)
        pairs = None if pairs is None else np.asarray([t.encode("utf-8") for t in pairs],
                                                       dtype=object)
        parts = []
        for start, stop in self._batches(len(texts)):
            batch = {TEXT_INPUT: self._padded(texts[start:stop], stop - start)}
            if pairs is not None:
                batch[PAIR_INPUT] = self._padded(pairs[start:stop], stop - start)
            parts.append(self._run(batch)[:stop - start])
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    def encode_texts(self, texts, pairs=None) -> dict[str, np.ndarray]:
        """Packed ids from the artifact's own in-graph tokenizer (`encode` signature)."""
        if ENCODE_SIGNATURE not in self.signatures:
            raise UserError("this TFLite model has no in-graph tokenizer (`encode` signature)")
        runner = self.interpreter.get_signature_runner(ENCODE_SIGNATURE)
        rows = {name: [] for name in TOKEN_INPUT_NAMES}
        for i, text in enumerate(texts):  # raw-text models take one text per call
            feed = {TEXT_INPUT: np.asarray([text.encode("utf-8")], dtype=object)}
            if pairs is not None:
                feed[PAIR_INPUT] = np.asarray([pairs[i].encode("utf-8")], dtype=object)
            out = runner(**feed)
            for name in TOKEN_INPUT_NAMES:
                rows[name].append(np.asarray(out[name])[0])
        return {name: np.stack(values) for name, values in rows.items()}

    def median_latency_ms(self, sample: dict | list, runs: int = 20) -> float:
        """Median wall time of one call (batch of `batch_size`) in milliseconds.

        Args:
            sample: one batch of packed inputs (dict) or of texts (list of strings).
            runs: timed calls after one warm-up call.
        """
        if isinstance(sample, dict):
            call = lambda: self.predict_packed(sample)  # noqa: E731
        else:
            call = lambda: self.predict_texts(sample)  # noqa: E731
        call()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000.0)
        return float(np.median(times))
