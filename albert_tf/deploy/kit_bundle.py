"""A ready-to-copy folder for the edge kit (`export/edge/classify.py`).

    <bundle>/
      model.tflite        token-id inputs (token_ids, segment_ids, padding_mask) -> probabilities
      tokenizer.model     the SentencePiece model (ALBERT), or vocab.txt (WordPiece vocabularies)
      label_names.json    class names in id order
      kit.json            what classify.py needs to tokenise and pack exactly like keras-hub:
                          sequence length, input names / order / dtypes, special token ids,
                          truncation rule, tokenizer options (lower-casing, accents, ...)

The TFLite model takes token ids rather than raw text: raw-text graphs need TF Text's custom
kernels, which exist only as a TensorFlow extension, while the kit must run with numpy, a TFLite
interpreter and the tokenizer's own library. The bundle is written to a staging folder and
renamed into place, so a half-written bundle never appears under the final name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

from albert_tf.deploy.classifier_graph import (
    PROBABILITIES,
    TOKEN_INPUT_DTYPES,
    TOKEN_INPUT_NAMES,
    classifier_spec,
)
from albert_tf.deploy.tflite_runner import CLASSIFY_SIGNATURE
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

BUNDLE_FORMAT = 1
KIT_FILE = "kit.json"
MODEL_FILE = "model.tflite"
LABELS_FILE = "label_names.json"
SENTENCEPIECE_FILE = "tokenizer.model"
WORDPIECE_FILE = "vocab.txt"
# Modes the last tflite-runtime release (2.14) can run; newer kernels (FULLY_CONNECTED v12 of
# dynamic-range models) are missing there, see DESIGN.md.
TFLITE_RUNTIME_2_14_MODES = ("float32", "float16")


def _tokenizer_entry(tokenizer, kind: str, staging: Path) -> dict:
    """Write the tokenizer file into `staging`; return kit.json's `tokenizer` entry."""
    if kind == "sentencepiece":
        proto = tokenizer.proto
        (staging / SENTENCEPIECE_FILE).write_bytes(proto if isinstance(proto, bytes)
                                                   else Path(proto).read_bytes())
        # The .model carries its own normaliser (case folding for albert_tf's models).
        return {"kind": kind, "file": SENTENCEPIECE_FILE}
    vocabulary = [str(token) for token in tokenizer.get_vocabulary()]
    bad = [token for token in vocabulary if "\n" in token or "\r" in token]
    if bad:
        raise UserError(f"the WordPiece vocabulary has tokens with line breaks ({bad[:3]}); "
                        "vocab.txt holds one token per line")
    (staging / WORDPIECE_FILE).write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    special_tokens = []
    if getattr(tokenizer, "special_tokens_in_strings", False):
        special_tokens = [str(t) for t in tokenizer.special_tokens]
    return {
        "kind": kind,
        "file": WORDPIECE_FILE,
        "lowercase": bool(tokenizer.lowercase),
        "strip_accents": bool(tokenizer.strip_accents),
        "split": bool(tokenizer.split),
        "split_on_cjk": bool(tokenizer.split_on_cjk),
        "suffix_indicator": str(tokenizer.suffix_indicator),
        "oov_token": str(tokenizer.oov_token),
        "special_tokens": special_tokens,
    }


def _tflite_facts(path: Path, sequence_length: int) -> dict:
    """Check a `.tflite` file is a token-input albert_tf classifier; return its batch size."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path))
        signatures = interpreter.get_signature_list()
    except (RuntimeError, ValueError) as exc:
        raise UserError(f"{path} is not a loadable TFLite model: {exc}") from exc
    if CLASSIFY_SIGNATURE not in signatures:
        raise UserError(f"{path} has no {CLASSIFY_SIGNATURE!r} signature: export it with "
                        "albert-tf export / export_tflite")
    inputs = signatures[CLASSIFY_SIGNATURE]["inputs"]
    if sorted(inputs) != sorted(TOKEN_INPUT_NAMES):
        raise UserError(f"{path} takes {sorted(inputs)}; the edge kit needs a token-input model "
                        f"({', '.join(TOKEN_INPUT_NAMES)}): export without raw_text")
    details = interpreter.get_signature_runner(CLASSIFY_SIGNATURE).get_input_details()
    shape = [int(d) for d in details[TOKEN_INPUT_NAMES[0]]["shape"]]
    if shape[1] != sequence_length:
        raise UserError(f"{path} takes {shape[1]} tokens per example but the model's "
                        f"preprocessor packs {sequence_length}: export it from this model")
    return {"batch_size": shape[0]}


def _recorded_mode(tflite_path: Path, default: str) -> str:
    """The mode in `export_tflite`'s report beside the file, else `default`."""
    from albert_tf.deploy.tflite_export import report_path

    report = report_path(tflite_path)
    if report.is_file():
        return str(json.loads(report.read_text()).get("mode", default))
    return default


def _kit_parity(model, target: Path, mode: str, allow_mismatch: bool) -> dict:
    """Parity of what the kit runs: the `.tflite` on keras-hub's packed ids, and the kit's
    tokenizer library (sentencepiece; keras-hub's pure-Python WordPiece, which classify.py
    mirrors) against keras-hub's ids. Raises `ParityError` unless `allow_mismatch`."""
    from albert_tf.deploy.parity import (
        GATED_CHECKS,
        enforce_parity,
        tflite_parity,
        tokenization_parity,
    )

    report = {**tflite_parity(model, target, mode), "tokenization": tokenization_parity(model)}
    enforce_parity(report, f"edge bundle ({MODEL_FILE}, {mode})", allow_mismatch,
                   checks=(*GATED_CHECKS, "edge_library_identical"))
    tokens = report["tokenization"]
    return {"texts": tokens["texts"], "passed": report["passed"],
            "mismatch_allowed": report["mismatch_allowed"], "failures": report["failures"],
            "max_abs_error": report["outputs"]["max_abs_error"],
            "tokenizer_mismatches": tokens["edge_library_mismatches"]}


def write_edge_bundle(model, bundle_dir, *, mode: str = "float32", tflite_path=None,
                      label_names=None, representative_data=None, batch_size: int = 1,
                      overwrite: bool = False, parity: bool = True,
                      allow_mismatch: bool = False) -> dict:
    """Write a bundle folder that `export/edge/classify.py` runs without albert_tf.

    Args:
        model: a keras-hub `TextClassifier` with its preprocessor (tokenizer and packing are
            read from it).
        bundle_dir: the folder to create.
        mode: TFLite mode to export (`float32`, `float16`, `dynamic-int8`, `int8`, `int16x8`).
            With `tflite_path`, the mode recorded in its export report (`<file>.json`) wins.
        tflite_path: an already exported token-input `.tflite` of this model, copied as is.
        label_names: class names in id order; default the ids.
        representative_data: calibration examples (training split) for `int8` / `int16x8`.
        batch_size: fixed batch size of an exported model.
        overwrite: replace an existing bundle folder.
        parity: check the bundle against the Keras model on the parity suite (`ParityError`
            and no bundle when it fails); the verdict goes into kit.json's `parity`.
        allow_mismatch: write the bundle even when the check fails, recording the failures
            in kit.json.

    Returns:
        kit.json's content plus `path` (the bundle folder).

    Examples:
    >>> write_edge_bundle(model, "bundle", mode="float32",
    ...                   label_names=["negative", "positive"])  # doctest: +SKIP
    """
    bundle = Path(bundle_dir)
    if bundle.exists() and not overwrite:
        raise UserError(f"{bundle} already exists: choose another folder or pass overwrite")
    spec = classifier_spec(model, label_names)
    staging = bundle.with_name(f".{bundle.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        target = staging / MODEL_FILE
        if tflite_path is not None:
            source = Path(tflite_path)
            if not source.is_file():
                raise UserError(f"TFLite model not found: {source}")
            shutil.copyfile(source, target)
            mode = _recorded_mode(source, mode)
        else:
            from albert_tf.deploy.tflite_export import export_tflite

            export_tflite(model, target, mode=mode, representative_data=representative_data,
                          label_names=spec.label_names, batch_size=batch_size, parity=False)
            (staging / f"{MODEL_FILE}.json").unlink(missing_ok=True)  # the kit needs kit.json
        facts = _tflite_facts(target, spec.sequence_length)
        parity_report = _kit_parity(model, target, mode, allow_mismatch) if parity else None
        tokenizer = _tokenizer_entry(model.preprocessor.tokenizer, spec.tokenizer_kind, staging)
        (staging / LABELS_FILE).write_text(json.dumps(list(spec.label_names), ensure_ascii=False))
        kit = {
            "format": BUNDLE_FORMAT,
            "model_file": MODEL_FILE,
            "model_sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "model_size_bytes": target.stat().st_size,
            "mode": mode,
            "signature": CLASSIFY_SIGNATURE,
            "inputs": list(TOKEN_INPUT_NAMES),
            "input_dtypes": dict(TOKEN_INPUT_DTYPES),
            "output": PROBABILITIES,
            "batch_size": facts["batch_size"],
            "sequence_length": spec.sequence_length,
            "truncate": spec.truncate,
            "special_tokens": {"start_id": spec.start_id, "end_id": spec.end_id,
                               "pad_id": spec.pad_id},
            "tokenizer": tokenizer,
            "label_names_file": LABELS_FILE,
            "num_classes": spec.num_classes,
            "runs_on_tflite_runtime_2_14": mode in TFLITE_RUNTIME_2_14_MODES,
        }
        if parity_report is not None:
            kit["parity"] = parity_report
        (staging / KIT_FILE).write_text(json.dumps(kit, indent=2, ensure_ascii=False))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if bundle.exists():
        shutil.rmtree(bundle)
    os.replace(staging, bundle)
    logger.info("wrote edge bundle %s (%s, %.1f kB model)", bundle, mode,
                kit["model_size_bytes"] / 1024)
    return {**kit, "path": str(bundle)}
