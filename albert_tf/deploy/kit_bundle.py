"""Ready-to-copy folders for the edge kit (`export/edge/`): `classify.py` runs classifier
bundles, `tag.py` tagging bundles.

    <bundle>/
      model.tflite        token-id inputs (token_ids, segment_ids, padding_mask) -> probabilities
                          (per text, or per token for taggers)
      tokenizer.model     the SentencePiece model (ALBERT), or vocab.txt (WordPiece vocabularies)
      label_names.json    class names in id order (tag_names.json: tag names, for taggers)
      kit.json            what the kit needs to tokenise and pack exactly like albert_tf:
                          sequence length, input names / order / dtypes, special token ids,
                          truncation rule, tokenizer options (lower-casing, accents, ...);
                          taggers add `task: token-classification` and the unknown token's id

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
from contextlib import contextmanager
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
TAG_NAMES_FILE = "tag_names.json"
TOKEN_CLASSIFICATION = "token-classification"
# The kit's own code, run on every tagging bundle before it is written (the parity check).
EDGE_KIT_DIR = Path(__file__).resolve().parents[2] / "export" / "edge"
SENTENCEPIECE_FILE = "tokenizer.model"
WORDPIECE_FILE = "vocab.txt"
# Modes the last tflite-runtime release (2.14) can run; newer kernels (FULLY_CONNECTED v12 of
# dynamic-range models) are missing there, see DESIGN.md.
TFLITE_RUNTIME_2_14_MODES = ("float32", "float16")


def _write_tokenizer_file(tokenizer, kind: str, staging: Path) -> str:
    """Write the SentencePiece model or the WordPiece vocabulary into `staging`; its name."""
    if kind == "sentencepiece":
        proto = tokenizer.proto
        (staging / SENTENCEPIECE_FILE).write_bytes(proto if isinstance(proto, bytes)
                                                   else Path(proto).read_bytes())
        return SENTENCEPIECE_FILE
    vocabulary = [str(token) for token in tokenizer.get_vocabulary()]
    bad = [token for token in vocabulary if "\n" in token or "\r" in token]
    if bad:
        raise UserError(f"the WordPiece vocabulary has tokens with line breaks ({bad[:3]}); "
                        "vocab.txt holds one token per line")
    (staging / WORDPIECE_FILE).write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    return WORDPIECE_FILE


def _tokenizer_entry(tokenizer, kind: str, staging: Path) -> dict:
    """Write the tokenizer file into `staging`; return kit.json's `tokenizer` entry."""
    file = _write_tokenizer_file(tokenizer, kind, staging)
    if kind == "sentencepiece":
        # The .model carries its own normaliser (case folding for albert_tf's models).
        return {"kind": kind, "file": file}
    special_tokens = []
    if getattr(tokenizer, "special_tokens_in_strings", False):
        special_tokens = [str(t) for t in tokenizer.special_tokens]
    return {
        "kind": kind,
        "file": file,
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


@contextmanager
def _staged_bundle(bundle: Path, overwrite: bool):
    """A staging folder beside `bundle`, renamed to it when the block succeeds, removed when
    it fails: a half-written bundle never appears under the final name."""
    if bundle.exists() and not overwrite:
        raise UserError(f"{bundle} already exists: choose another folder or pass overwrite")
    staging = bundle.with_name(f".{bundle.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if bundle.exists():
        shutil.rmtree(bundle)
    os.replace(staging, bundle)


def _copy_model(tflite_path, target: Path, mode: str) -> str:
    """Copy an exported `.tflite` into the bundle; the mode its export report records."""
    source = Path(tflite_path)
    if not source.is_file():
        raise UserError(f"TFLite model not found: {source}")
    shutil.copyfile(source, target)
    return _recorded_mode(source, mode)


def _kit_json(target: Path, mode: str, facts: dict, sequence_length: int, truncate: str,
              special_tokens: dict, tokenizer: dict, labels_file: str, num_classes: int) -> dict:
    """kit.json's fields shared by classification and tagging bundles."""
    return {
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
        "sequence_length": sequence_length,
        "truncate": truncate,
        "special_tokens": special_tokens,
        "tokenizer": tokenizer,
        "label_names_file": labels_file,
        "num_classes": num_classes,
        "runs_on_tflite_runtime_2_14": mode in TFLITE_RUNTIME_2_14_MODES,
    }


def _write_json(path: Path, content) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")


def write_edge_bundle(model, bundle_dir, *, mode: str = "float32", tflite_path=None,
                      label_names=None, representative_data=None, batch_size: int = 1,
                      overwrite: bool = False, parity: bool = True,
                      allow_mismatch: bool = False) -> dict:
    """Write a bundle folder that `export/edge/classify.py` runs without albert_tf (a token
    classifier gets a tagging bundle for `export/edge/tag.py`: `write_tagging_bundle`).

    Args:
        model: a keras-hub `TextClassifier` with its preprocessor (tokenizer and packing are
            read from it), or an albert_tf `TokenClassifier`.
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
    from albert_tf.tagging.model import TokenClassifier

    if isinstance(model, TokenClassifier):
        if representative_data is not None:
            raise UserError("representative_data is for int8 / int16x8 classifiers; tagging "
                            "bundles are float32, float16 or dynamic-int8")
        return write_tagging_bundle(model, bundle_dir, mode=mode, tflite_path=tflite_path,
                                    tag_names=label_names, batch_size=batch_size,
                                    overwrite=overwrite, parity=parity,
                                    allow_mismatch=allow_mismatch)
    bundle = Path(bundle_dir)
    spec = classifier_spec(model, label_names)
    with _staged_bundle(bundle, overwrite) as staging:
        target = staging / MODEL_FILE
        if tflite_path is not None:
            mode = _copy_model(tflite_path, target, mode)
        else:
            from albert_tf.deploy.tflite_export import export_tflite

            export_tflite(model, target, mode=mode, representative_data=representative_data,
                          label_names=spec.label_names, batch_size=batch_size, parity=False)
            (staging / f"{MODEL_FILE}.json").unlink(missing_ok=True)  # the kit needs kit.json
        facts = _tflite_facts(target, spec.sequence_length)
        parity_report = _kit_parity(model, target, mode, allow_mismatch) if parity else None
        tokenizer = _tokenizer_entry(model.preprocessor.tokenizer, spec.tokenizer_kind, staging)
        (staging / LABELS_FILE).write_text(json.dumps(list(spec.label_names), ensure_ascii=False))
        kit = _kit_json(target, mode, facts, spec.sequence_length, spec.truncate,
                        {"start_id": spec.start_id, "end_id": spec.end_id, "pad_id": spec.pad_id},
                        tokenizer, LABELS_FILE, spec.num_classes)
        if parity_report is not None:
            kit["parity"] = parity_report
        _write_json(staging / KIT_FILE, kit)
    logger.info("wrote edge bundle %s (%s, %.1f kB model)", bundle, mode,
                kit["model_size_bytes"] / 1024)
    return {**kit, "path": str(bundle)}


def _tagger_tokenizer_entry(tagger, staging: Path) -> dict:
    """Write the tagger's tokenizer file; kit.json's `tokenizer` entry for `tag.py`."""
    import keras_hub

    tokenizer = tagger.preprocessor.tokenizer
    if isinstance(tokenizer, keras_hub.tokenizers.SentencePieceTokenizer):
        return {"kind": "sentencepiece",
                "file": _write_tokenizer_file(tokenizer, "sentencepiece", staging)}
    # Words go through tf_text's FastBertTokenizer (`BertTokenClassifierPreprocessor`), whose
    # one switch lower-cases and strips accents together.
    lowercase = bool(getattr(tokenizer, "lowercase", False))
    return {"kind": "wordpiece", "file": _write_tokenizer_file(tokenizer, "wordpiece", staging),
            "pretokenizer": "fast-bert", "lowercase": lowercase, "strip_accents": lowercase,
            "suffix_indicator": "##", "oov_token": str(tokenizer.oov_token)}


def write_tagging_bundle(tagger, bundle_dir, *, mode: str = "float32", tflite_path=None,
                         tag_names=None, batch_size: int = 1, overwrite: bool = False,
                         parity: bool = True, allow_mismatch: bool = False) -> dict:
    """Write a tagging bundle that `export/edge/tag.py` runs without albert_tf: raw sentences
    in, word-level tags out, as the raw-text SavedModel tagger (`export_saved_model`) does.

    Args:
        tagger: an albert_tf `TokenClassifier` with its preprocessor (SentencePiece or
            WordPiece).
        bundle_dir: the folder to create.
        mode: TFLite mode (`float32`, `float16`, `dynamic-int8`). With `tflite_path`, the mode
            recorded in its export report (`<file>.json`) wins.
        tflite_path: an already exported per-token `.tflite` of this tagger
            (`export_tflite`), copied as is.
        tag_names: tag names in id order; default the ids.
        batch_size: fixed batch size of an exported model.
        overwrite: replace an existing bundle folder.
        parity: run the kit's own code (`export/edge/tag.py`) on the parity sentences and
            compare its words, token ids and tags with the Keras tagger's (`ParityError` and no
            bundle when it fails); the verdict goes into kit.json's `parity`.
        allow_mismatch: write the bundle even when the check fails, recording the failures.

    Returns:
        kit.json's content plus `path` (the bundle folder).

    Examples:
    >>> write_tagging_bundle(tagger, "pos-bundle", mode="dynamic-int8",
    ...                      tag_names=["NOUN", "VERB", "."])  # doctest: +SKIP
    """
    from albert_tf.deploy.tflite_export import TFLiteExportConfig, convert_to_tflite
    from albert_tf.tasks.token_classification import TokenClassificationAdapter

    config = TFLiteExportConfig(mode=mode, batch_size=batch_size).validate()
    TokenClassificationAdapter().check_tflite(config)  # before anything is written
    names = [str(n) for n in (tag_names if tag_names is not None
                              else range(tagger.num_classes))]
    if len(names) != tagger.num_classes:
        raise UserError(f"{len(names)} tag names for a {tagger.num_classes}-tag model: give one "
                        f"name per tag. Received: {names}")
    bundle = Path(bundle_dir)
    preprocessor = tagger.preprocessor
    sequence_length = int(preprocessor.sequence_length)
    with _staged_bundle(bundle, overwrite) as staging:
        target = staging / MODEL_FILE
        if tflite_path is not None:
            mode = _copy_model(tflite_path, target, mode)
        else:
            target.write_bytes(convert_to_tflite(tagger, config)[0])
        facts = _tflite_facts(target, sequence_length)
        tokenizer = _tagger_tokenizer_entry(tagger, staging)
        _write_json(staging / TAG_NAMES_FILE, names)
        kit = {"task": TOKEN_CLASSIFICATION,
               # One segment: `[CLS] tokens [SEP]` cut at sequence_length - 2 tokens.
               **_kit_json(target, mode, facts, sequence_length, "waterfall",
                           preprocessor.special_token_ids(), tokenizer, TAG_NAMES_FILE,
                           tagger.num_classes),
               "word_split": "albert_tf.deploy.tagging_graph.split_words"}
        _write_json(staging / KIT_FILE, kit)
        if parity:  # the kit reads the staged bundle, as it will read the copied one
            kit["parity"] = _tagging_kit_parity(tagger, staging, mode, allow_mismatch)
            _write_json(staging / KIT_FILE, kit)
    logger.info("wrote tagging bundle %s (%s, %.1f kB model)", bundle, mode,
                kit["model_size_bytes"] / 1024)
    return {**kit, "path": str(bundle)}


def load_edge_kit_module(name: str):
    """Import a script of the edge kit (`export/edge/<name>.py`) from this checkout.

    The kit is standalone (no albert_tf import), so it is loaded by path, with `kit_common`
    registered first for its `from kit_common import ...`.
    """
    import importlib.util
    import sys

    def load(module_name: str, path: Path):
        if module_name in sys.modules:
            return sys.modules[module_name]
        if not path.is_file():
            raise UserError(f"the edge kit's {path.name} is not found at {path}: tagging bundles "
                            "are checked by running the kit; use albert_tf from its source "
                            "checkout (pip install -e .), or pass parity=False")
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
        return module

    load("kit_common", EDGE_KIT_DIR / "kit_common.py")
    return load(f"albert_tf_edge_kit_{name}", EDGE_KIT_DIR / f"{name}.py")


def _tagging_kit_parity(tagger, bundle: Path, mode: str, allow_mismatch: bool) -> dict:
    """Run `tag.py`'s `EdgeTagger` on the bundle over the parity sentences (the tagging ones
    and the 234-text suite) and compare with the Keras tagger: the word split with
    `split_words`, the packed token ids and word starts with the preprocessor's `align`, the
    word-level tags and probabilities with `predict_words`. Raises `ParityError` unless
    `allow_mismatch`."""
    import numpy as np

    from albert_tf.deploy.parity import PARITY_TEXTS, enforce_parity, mismatch_classes, tolerance_for
    from albert_tf.deploy.tagging_graph import PARITY_SENTENCES, split_words
    from albert_tf.text.token_pipeline import INPUT_NAMES, predict_words

    texts = [*PARITY_SENTENCES, *PARITY_TEXTS]
    words = [[w.decode("utf-8") for w in sentence] for sentence in split_words(texts).to_list()]
    kit = load_edge_kit_module("tag")
    try:
        edge = kit.EdgeTagger(bundle)
        kit_words = [kit.split_words(text) for text in texts]
        kit_packed, _ = edge.encode(words)
        kit_rows, kit_starts = edge.word_probabilities(words)
    except kit.KitError as exc:
        raise UserError(f"the edge kit cannot run the bundle: {exc}") from exc
    aligned = tagger.preprocessor.align(words)
    starts = aligned["word_starts"].to_list()
    same_tokens = np.all(np.stack([kit_packed[n] == aligned[n].numpy() for n in INPUT_NAMES]),
                         axis=(0, 2)) & np.asarray([a == b for a, b in zip(kit_starts, starts)])
    expected = predict_words(tagger, words)
    # Over the words either side tags (words cut off by both would inflate the share).
    same_tags = [(int(row.argmax()) if start >= 0 else -1) == keras_id
                 for rows, sentence_starts, keras_ids in zip(kit_rows, kit_starts, expected.tag_ids)
                 for row, start, keras_id in zip(rows, sentence_starts, keras_ids)
                 if start >= 0 or keras_id >= 0]
    difference = max((float(np.abs(a - b).max()) for a, b in
                      zip(kit_rows, expected.probabilities) if a.size), default=0.0)
    split_mismatches = [t for t, a, b in zip(texts, kit_words, words) if a != b]
    token_mismatches = [t for t, ok in zip(texts, same_tokens) if not ok]
    tolerance = tolerance_for(mode)
    report = {
        "texts": len(texts),
        "words": len(same_tags),  # tagged words
        "words_cut_off": int(sum(s < 0 for row in starts for s in row)),
        "word_split_identical": not split_mismatches,
        "word_split_mismatches": split_mismatches,
        "edge_tokens_identical": not token_mismatches,
        "edge_tokens_mismatches": token_mismatches,
        "edge_tokens_mismatch_classes": mismatch_classes(token_mismatches),
        "same_tag_fraction": float(np.mean(same_tags)) if same_tags else 1.0,
        "max_abs_error": difference,
        "tolerance": tolerance,
        "within_tolerance": None if tolerance is None else difference <= tolerance,
    }
    enforce_parity(report, f"tagging bundle ({MODEL_FILE}, {mode})", allow_mismatch,
                   checks=("within_tolerance", "word_split_identical", "edge_tokens_identical"))
    return report
