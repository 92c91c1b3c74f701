"""Export a model to TFLite, in every precision mode: the one converter of both tasks.

A text classifier gives class probabilities `[batch, classes]`, a token classifier per-token
probabilities `[batch, sequence_length, tags]` (`tagging_graph`); the model's task adapter
(`albert_tf.tasks`) says which modes its task supports and how a file is checked against the
Keras model. Everything else (freezing, converter flags, calibration, atomic writes, the
report) is shared.

Modes (`TFLITE_MODES`):

* `float32`: the float graph.
* `float16`: float16 weights, float32 compute (weights are dequantised at load time).
* `dynamic-int8`: int8 weights; activations quantised on the fly per call ("hybrid" kernels).
* `int8`: full-integer post-training quantization calibrated on a representative sample of
  the training split; inputs stay int32 / bool ids, the probabilities output is float
  (`io_type="float"`) or int8 (`io_type="int8"`). Ops without an int8 kernel (LayerNorm's
  MEAN / RSQRT, ...) stay float with QUANTIZE / DEQUANTIZE around them. `denylisted_ops` /
  `denylisted_nodes` keep further ops in float (selective quantization).
* `int16x8`: int16 activations with int8 weights, calibrated the same way. Two graph rewrites
  (`frozen_graph`) are applied first: keras' negative-index normalisation in front of every
  embedding lookup is dropped (its int32 comparisons break 16x8 calibration), and
  `SquaredDifference` is split into `Sub` and `Mul` (TFLite has no int16 kernel for it).
  Ops the 16x8 quantizer does not support (SELECT_V2, NEG, ...) stay float.

Every model is converted from a fixed-shape SavedModel (`[batch_size, sequence_length]`); the
classifier's variables are folded into constants first. With `raw_text=True` the graph takes
UTF-8 strings (`text`, and `text_pair` for pairs) and tokenises inside with TF Text's TFLite
kernels; it also gets an `encode` signature returning the packed ids, so the in-graph tokenizer
can be checked against keras-hub and sentencepiece.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from albert_tf.deploy.classifier_graph import (
    PROBABILITIES,
    TOKEN_INPUT_NAMES,
    classifier_spec,
    pack_texts,
    probabilities_function,
    token_input_signature,
)
from albert_tf.deploy.frozen_graph import (
    drop_index_normalization,
    frozen_function,
    split_squared_difference,
)
from albert_tf.deploy.tflite_ops import describe_ops
from albert_tf.deploy.tflite_runner import (
    CLASSIFY_SIGNATURE,
    ENCODE_SIGNATURE,
    PAIR_INPUT,
    TEXT_INPUT,
)
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

TFLITE_MODES = ("float32", "float16", "dynamic-int8", "int8", "int16x8")
CALIBRATED_MODES = ("int8", "int16x8")
IO_TYPES = ("float", "int8")


@dataclasses.dataclass
class TFLiteExportConfig:
    """How to convert.

    Args:
        mode: one of `TFLITE_MODES`.
        io_type: `int8` mode only: "float" keeps a float probabilities output, "int8"
            quantises it (the ids stay int32 / bool either way).
        raw_text: take UTF-8 strings and tokenise inside the graph (float32, float16 and
            dynamic-int8 only: calibration needs token tensors).
        text_pairs: raw-text models only: take a second string (`text_pair`).
        batch_size: fixed batch size of the signature (raw-text models: 1).
        calibration_samples: examples of the representative data used for calibration.
        denylisted_ops: `int8` only: TFLite op names kept in float (e.g. "SOFTMAX").
        denylisted_nodes: `int8` only: output tensor names of ops kept in float.
    """

    mode: str = "float32"
    io_type: str = "float"
    raw_text: bool = False
    text_pairs: bool = False
    batch_size: int = 1
    calibration_samples: int = 100
    denylisted_ops: tuple[str, ...] = ()
    denylisted_nodes: tuple[str, ...] = ()

    def validate(self) -> TFLiteExportConfig:
        if self.mode not in TFLITE_MODES:
            raise UserError(f"unknown TFLite mode {self.mode!r}: expected one of "
                            f"{', '.join(TFLITE_MODES)}")
        if self.io_type not in IO_TYPES:
            raise UserError(f"io_type must be one of {IO_TYPES}. Received: {self.io_type!r}")
        if self.io_type == "int8" and self.mode != "int8":
            raise UserError(f"int8 inputs/outputs need mode='int8'. Received: mode={self.mode!r}")
        if self.raw_text and self.mode in CALIBRATED_MODES:
            raise UserError(f"raw-text TFLite models support float32, float16 and dynamic-int8; "
                            f"{self.mode} calibration needs token inputs (use raw_text=False)")
        if self.text_pairs and not self.raw_text:
            raise UserError("text_pairs applies to raw-text models only (token models take "
                            "packed pairs already)")
        if self.raw_text and self.batch_size != 1:
            raise UserError(f"raw-text TFLite models take one text per call. "
                            f"Received: batch_size={self.batch_size}")
        if self.batch_size < 1:
            raise UserError(f"batch_size must be >= 1. Received: {self.batch_size}")
        if self.calibration_samples < 1:
            raise UserError(f"calibration_samples must be >= 1. "
                            f"Received: {self.calibration_samples}")
        if (self.denylisted_ops or self.denylisted_nodes) and self.mode != "int8":
            raise UserError("denylisted ops/nodes (selective quantization) apply to mode='int8'")
        self.denylisted_ops = tuple(self.denylisted_ops)
        self.denylisted_nodes = tuple(self.denylisted_nodes)
        return self


def representative_inputs(model, data, samples: int = 100, seed: int = 0) -> dict[str, np.ndarray]:
    """Packed calibration inputs: `samples` examples drawn from `data`.

    Args:
        model: the classifier (its preprocessor packs texts).
        data: examples with `texts` (and optional `pairs`), e.g. the training split's
            `TextExamples`, or already packed inputs (a dict of arrays).
        samples: number of examples to draw (all if fewer).
        seed: which examples are drawn.
    """
    if isinstance(data, dict):
        packed = {name: np.asarray(data[name]) for name in TOKEN_INPUT_NAMES}
        n = len(packed[TOKEN_INPUT_NAMES[0]])
        order = np.random.default_rng(seed).permutation(n)[:samples]
        return {name: values[order] for name, values in packed.items()}
    texts = list(getattr(data, "texts", []))
    if not texts:
        raise UserError("the representative data has no texts: pass the training split")
    order = np.random.default_rng(seed).permutation(len(texts))[:samples]
    pairs = getattr(data, "pairs", None)
    return pack_texts(model, [texts[i] for i in order],
                      None if pairs is None else [pairs[i] for i in order])


def _calibration_generator(packed: dict[str, np.ndarray], batch_size: int):
    n = len(packed[TOKEN_INPUT_NAMES[0]]) // batch_size * batch_size
    if n == 0:
        raise UserError(f"need at least batch_size={batch_size} calibration examples")

    def generate():
        for start in range(0, n, batch_size):
            yield {name: packed[name][start:start + batch_size] for name in TOKEN_INPUT_NAMES}

    return generate


def _classifier_signatures(model, spec, config: TFLiteExportConfig):
    """`{signature key: (python function, input signature)}` of the graph to convert."""
    import tensorflow as tf

    probabilities = probabilities_function(model)
    if not config.raw_text:
        def classify(token_ids, segment_ids, padding_mask):
            return {PROBABILITIES: probabilities(token_ids, segment_ids, padding_mask)}

        return {CLASSIFY_SIGNATURE: (classify, token_input_signature(spec.sequence_length,
                                                                      config.batch_size))}

    from albert_tf.deploy.text_encoder import InGraphTextEncoder

    encoder = InGraphTextEncoder(model, target="tflite", spec=spec)
    text = tf.TensorSpec([1], tf.string, name=TEXT_INPUT)
    if config.text_pairs:
        pair = tf.TensorSpec([1], tf.string, name=PAIR_INPUT)

        def classify(text, text_pair):
            packed = encoder.encode(text, text_pair)
            return {PROBABILITIES: probabilities(*(packed[n] for n in TOKEN_INPUT_NAMES))}

        def encode(text, text_pair):
            return encoder.encode(text, text_pair)

        return {CLASSIFY_SIGNATURE: (classify, [text, pair]), ENCODE_SIGNATURE: (encode, [text, pair])}

    def classify(text):
        packed = encoder.encode(text)
        return {PROBABILITIES: probabilities(*(packed[n] for n in TOKEN_INPUT_NAMES))}

    def encode(text):
        return encoder.encode(text)

    return {CLASSIFY_SIGNATURE: (classify, [text]), ENCODE_SIGNATURE: (encode, [text])}


def _calling(concrete):
    """A plain function that calls `concrete` (tf.function needs a Python callable)."""

    def call(*args):
        return concrete(*args)

    return call


def _write_conversion_saved_model(signatures: dict, rewrites, folder: Path) -> dict:
    """Freeze each signature's function and save them together; returns rewrite counts."""
    import tensorflow as tf

    module = tf.Module()
    saved = {}
    counts = {}
    for key, (function, input_signature) in signatures.items():
        concrete, changed = frozen_function(function, input_signature, rewrites)
        for name, count in changed.items():
            counts[name] = counts.get(name, 0) + count

        saved[key] = tf.function(_calling(concrete), input_signature=input_signature)
        setattr(module, key, saved[key])
    tf.saved_model.save(module, str(folder), signatures=saved)
    return counts


def _converter(folder: Path, signature_keys, config: TFLiteExportConfig, calibration):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder), signature_keys=signature_keys)
    if config.raw_text:
        converter.allow_custom_ops = True  # TF Text kernels, registered by the runtime
    mode = config.mode
    if mode == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "dynamic-int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif mode in CALIBRATED_MODES:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = calibration
        if mode == "int16x8":
            # TFLITE_BUILTINS as well: ops without a 16x8 kernel stay float instead of failing.
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                tf.lite.OpsSet.TFLITE_BUILTINS]
        elif config.io_type == "int8":
            converter.inference_output_type = tf.int8
    return converter


def _selective_int8(converter, config: TFLiteExportConfig) -> bytes:
    """Full-integer model with the denylisted ops/nodes left in float.

    TFLite's `QuantizationDebugger` is the public entry point to the quantizer's denylists:
    built on the converter with debug options, it calibrates once and returns the model
    without its debug (NumericVerify) ops from `get_nondebug_quantized_model`.
    """
    import tensorflow as tf

    options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_ops=list(config.denylisted_ops) or None,
        denylisted_nodes=list(config.denylisted_nodes) or None,
        fully_quantize=config.io_type == "int8")
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter,
                                                         debug_options=options)
    return debugger.get_nondebug_quantized_model()


@contextlib.contextmanager
def tflite_converter(model, config: TFLiteExportConfig, representative_data=None,
                     label_names=None):
    """A configured `tf.lite.TFLiteConverter` for `model`, valid inside the `with` block.

    The converter reads a temporary fixed-shape SavedModel (frozen, rewritten for 16x8) that
    is deleted when the block ends.

    Args:
        model: a keras-hub `TextClassifier` or an albert_tf `TokenClassifier`, with its
            preprocessor.
        config: `TFLiteExportConfig`.
        representative_data: calibration examples for `int8` / `int16x8` (the training
            split's examples, or packed inputs).
        label_names: class names in id order.

    Yields:
        `(converter, facts)`: facts describe the conversion (mode, signatures, rewrites, ...).
    """
    from albert_tf.tasks.adapter import adapter_for

    config = dataclasses.replace(config).validate()
    adapter_for(model).check_tflite(config)
    spec = classifier_spec(model, label_names)
    calibration = None
    calibration_count = 0
    if config.mode in CALIBRATED_MODES:
        if representative_data is None:
            raise UserError(f"mode {config.mode} needs representative_data: examples from the "
                            "training split to calibrate activation ranges")
        packed = representative_inputs(model, representative_data, config.calibration_samples)
        calibration = _calibration_generator(packed, config.batch_size)
        calibration_count = len(packed[TOKEN_INPUT_NAMES[0]])
    rewrites = (drop_index_normalization, split_squared_difference) \
        if config.mode == "int16x8" else ()
    signatures = _classifier_signatures(model, spec, config)
    with tempfile.TemporaryDirectory(prefix="albert_tf_tflite_") as tmp:
        folder = Path(tmp) / "saved_model"
        counts = _write_conversion_saved_model(signatures, rewrites, folder)
        facts = {
            "mode": config.mode,
            "io_type": config.io_type,
            "raw_text": config.raw_text,
            "text_pairs": config.text_pairs,
            "batch_size": config.batch_size,
            "signatures": list(signatures),
            "classifier": spec.to_dict(),
            "graph_rewrites": counts,
            "calibration_samples": calibration_count,
            "denylisted_ops": list(config.denylisted_ops),
            "denylisted_nodes": list(config.denylisted_nodes),
        }
        yield _converter(folder, list(signatures), config, calibration), facts


def convert_to_tflite(model, config: TFLiteExportConfig, representative_data=None,
                      label_names=None) -> tuple[bytes, dict]:
    """Convert `model` to TFLite bytes; returns `(bytes, conversion facts)`.

    Args:
        model: a keras-hub `TextClassifier` or an albert_tf `TokenClassifier`, with its
            preprocessor.
        config: `TFLiteExportConfig`.
        representative_data: calibration examples for `int8` / `int16x8`.
        label_names: class names in id order.
    """
    started = time.perf_counter()
    with tflite_converter(model, config, representative_data, label_names) as (converter, facts):
        logger.info("converting to TFLite (%s%s)", config.mode,
                    ", raw text" if config.raw_text else "")
        if config.denylisted_ops or config.denylisted_nodes:
            content = _selective_int8(converter, config)
        else:
            content = converter.convert()
    facts["conversion_seconds"] = round(time.perf_counter() - started, 2)
    return content, facts


def write_atomic(path: Path, content: bytes) -> Path:
    """Write bytes to a temporary name beside `path`, then rename into place; a failed write
    leaves neither a temporary file nor a half-written `path`."""
    from albert_tf.errors import UserError

    if path.is_dir():
        raise UserError(f"{path} is a folder: give the path of the file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def report_path(artifact: Path) -> Path:
    """Where the JSON report of an artifact goes: beside it, `<name>.json`."""
    return artifact.with_name(artifact.name + ".json")


def export_tflite(model, path, mode: str = "float32", representative_data=None, *,
                  label_names=None, io_type: str = "float", raw_text: bool = False,
                  text_pairs: bool = False, batch_size: int = 1, calibration_samples: int = 100,
                  denylisted_ops=(), denylisted_nodes=(), parity: bool = True,
                  parity_texts=None, allow_mismatch: bool = False) -> dict:
    """Convert `model` to a `.tflite` file and describe it (also written to `<path>.json`).

    Args:
        model: a keras-hub `TextClassifier` or an albert_tf `TokenClassifier` (per-token
            probabilities out; float32, float16 and dynamic-int8), with its preprocessor.
        path: the `.tflite` file to write (atomically).
        mode: one of `TFLITE_MODES`.
        representative_data: `int8` / `int16x8`: calibration examples from the training split.
        label_names: class names in id order (recorded in the report).
        io_type, raw_text, text_pairs, batch_size, calibration_samples, denylisted_ops,
            denylisted_nodes: see `TFLiteExportConfig`.
        parity: run the artifact on `parity_texts` and compare with the Keras model; a
            failed check (float32 outputs beyond 1e-4, in-graph token ids unlike keras-hub's)
            raises `ParityError` before anything is written.
        parity_texts: texts for the parity check (default `parity.PARITY_TEXTS`, the suite;
            for a tagger `tagging_graph.PARITY_SENTENCES`, compared word by word).
        allow_mismatch: write the file even when the parity check fails; the failures are
            recorded in the report (`parity.failures`, `parity.mismatch_allowed`).

    Returns:
        A JSON-serialisable dict: path, size, sha256, ops (versions, which stayed float), the
        conversion facts and, with `parity`, the output (and tokenisation) parity report.

    Examples:
    >>> export_tflite(model, "out/model_int8.tflite", mode="int8",
    ...               representative_data=train)  # doctest: +SKIP
    """
    config = TFLiteExportConfig(
        mode=mode, io_type=io_type, raw_text=raw_text, text_pairs=text_pairs,
        batch_size=batch_size, calibration_samples=calibration_samples,
        denylisted_ops=tuple(denylisted_ops), denylisted_nodes=tuple(denylisted_nodes))
    content, facts = convert_to_tflite(model, config, representative_data, label_names)
    parity_report = None
    if parity:  # on the bytes, before anything is written
        from albert_tf.deploy.parity import enforce_parity
        from albert_tf.tasks.adapter import adapter_for

        parity_report = enforce_parity(
            adapter_for(model).tflite_parity(model, content, mode, parity_texts),
            Path(path).name, allow_mismatch)
    path = write_atomic(Path(path), content)
    from albert_tf.models import count_parameters

    result = {
        "artifact": "tflite",
        "path": str(path),
        # The Keras model's count: `bench` checks it against the --model-dir it is given.
        "parameters": count_parameters(model)["parameters"],
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **facts,
        "ops": describe_ops(content),
    }
    if parity_report is not None:
        result["parity"] = parity_report
    from albert_tf.json_files import write_json

    write_json(result, report_path(path))
    logger.info("wrote %s (%s, %.1f kB)", path, mode, len(content) / 1024)
    return result
