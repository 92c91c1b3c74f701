"""SavedModel for TF Serving, for both tasks: the layout, warm-up requests, parity gate and
report are written here once; what the signatures take and give comes from the model's task
adapter as a `ServingGraph` (`classifier_serving_graph` below, or
`tagging_graph.tagger_serving_graph`: raw sentences in, word-level tags out).

A text classifier's signatures (raw UTF-8 text in, probabilities and the label out):

* `serving_default`: `text` (`[batch]` strings; plus `text_pair` for pair models) ->
  `probabilities` `[batch, classes]`, `label_id` `[batch]` int32, `label` `[batch]` string.
  Tokenisation runs inside the graph with the model's own tokenizer through TF Text (see
  `text_encoder`), so clients send plain strings. TF Serving needs TF Text's ops linked in
  (the tensorflow/serving images since 2.x ship them).
* `tokens`: `token_ids`, `segment_ids`, `padding_mask` (`[batch, sequence_length]`) -> the
  same outputs, for clients that tokenise themselves.
* `encode`: the text inputs -> the packed ids the graph feeds the model, so the in-graph
  tokenizer can be checked against keras-hub's (the export's parity gate does).

The version folder gets warm-up requests (`assets.extra/tf_serving_warmup_requests`), and the
serving root a `models.config`. With `keras_int8=True` the exported copy has Keras 3's int8
weights (`model.quantize("int8")`); the caller's model is not changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from albert_tf.deploy.classifier_graph import (
    PROBABILITIES,
    TOKEN_INPUT_NAMES,
    classifier_spec,
    probabilities_function,
    token_input_signature,
)
from albert_tf.deploy.serving_layout import (
    check_model_name,
    check_version,
    publish_version,
    staging_dir,
    version_dir,
    write_models_config,
)
from albert_tf.deploy.serving_warmup import predict_log, write_warmup_requests
from albert_tf.deploy.tflite_runner import PAIR_INPUT, TEXT_INPUT
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

TOKENS_SIGNATURE = "tokens"
ENCODE_SIGNATURE = "encode"
LABEL = "label"
LABEL_ID = "label_id"
DEFAULT_WARMUP_TEXTS = ("", "A gripping, beautifully acted film.", "Terrible. Just terrible!!!")


def keras_int8_copy(model):
    """A copy of `model` (no preprocessor) with Keras 3 int8 weights; `model` is unchanged."""
    config = dict(model.get_config())
    config["preprocessor"] = None
    copy = type(model).from_config(config)
    copy.set_weights(model.get_weights())
    copy.quantize("int8")
    return copy


def _outputs(probabilities, label_names):
    import tensorflow as tf

    label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    return {PROBABILITIES: probabilities, LABEL_ID: label_id,
            LABEL: tf.gather(tf.constant(list(label_names)), label_id)}


def _build_archive(model, network, spec, text_pairs: bool):
    """An `ExportArchive` with the raw-text and token signatures."""
    import keras
    import tensorflow as tf

    from albert_tf.deploy.text_encoder import InGraphTextEncoder

    archive = keras.export.ExportArchive()
    archive.track(network)
    encoder = InGraphTextEncoder(model, target="saved_model", spec=spec)
    if isinstance(encoder.tokenizer, tf.Module):  # TF Text's SentencePiece op owns a resource
        archive.track(encoder.tokenizer)
    probabilities = probabilities_function(network)
    names = spec.label_names

    text = tf.TensorSpec([None], tf.string, name=TEXT_INPUT)
    if text_pairs:
        def classify_text(text, text_pair):
            packed = encoder.encode(text, text_pair)
            return _outputs(probabilities(*(packed[n] for n in TOKEN_INPUT_NAMES)), names)

        def encode_text(text, text_pair):
            return encoder.encode(text, text_pair)

        text_signature = [text, tf.TensorSpec([None], tf.string, name=PAIR_INPUT)]
    else:
        def classify_text(text):
            packed = encoder.encode(text)
            return _outputs(probabilities(*(packed[n] for n in TOKEN_INPUT_NAMES)), names)

        def encode_text(text):
            return encoder.encode(text)

        text_signature = [text]

    def classify_tokens(token_ids, segment_ids, padding_mask):
        return _outputs(probabilities(token_ids, segment_ids, padding_mask), names)

    archive.add_endpoint("serving_default", classify_text, input_signature=text_signature)
    archive.add_endpoint(TOKENS_SIGNATURE, classify_tokens,
                         input_signature=token_input_signature(spec.sequence_length, None))
    archive.add_endpoint(ENCODE_SIGNATURE, encode_text, input_signature=text_signature)
    return archive


def _warmup_logs(model, model_name: str, spec, texts, text_pairs: bool):
    """Warm-up records: each text alone, all texts as one batch, one `tokens` request."""
    from albert_tf.deploy.classifier_graph import pack_texts

    texts = [str(t) for t in texts]
    logs = []
    batches = [[t] for t in texts] + ([texts] if len(texts) > 1 else [])
    for batch in batches:
        inputs = {TEXT_INPUT: np.asarray(batch, dtype=object)}
        if text_pairs:
            inputs[PAIR_INPUT] = np.asarray(list(reversed(batch)), dtype=object)
        logs.append(predict_log(model_name, "serving_default", inputs))
    packed = pack_texts(model, texts, list(reversed(texts)) if text_pairs else None)
    logs.append(predict_log(model_name, TOKENS_SIGNATURE, packed))
    return logs


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _tree_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclasses.dataclass
class ServingGraph:
    """What a task's SavedModel serves, for `export_saved_model`.

    Args:
        archive: builds the `keras.export.ExportArchive` (called inside the staging guard).
        warmup_logs: `(model_name, texts) -> PredictionLog` records.
        parity: `(version folder, mode, texts) -> parity report` against the Keras model.
        signatures: signature name -> its input names (for the report).
        outputs: output names of `serving_default` (for the report).
        description: what the export knows of the model (the report's `classifier` entry).
        warmup_texts: default texts of the warm-up records.
    """

    archive: Callable
    warmup_logs: Callable
    parity: Callable
    signatures: dict
    outputs: list
    description: dict
    warmup_texts: tuple = DEFAULT_WARMUP_TEXTS


def classifier_serving_graph(model, network, label_names=None,
                             text_pairs: bool = False) -> ServingGraph:
    """A text classifier's signatures: raw text, packed tokens, and `encode`.

    Args:
        model: the keras-hub `TextClassifier` with its preprocessor.
        network: the model that is saved (`model`, or its Keras int8 copy).
        label_names: class names in id order.
        text_pairs: the text signatures take `text_pair` as well.
    """
    from albert_tf.deploy.parity import saved_model_parity

    spec = classifier_spec(model, label_names)
    text_inputs = [TEXT_INPUT] + ([PAIR_INPUT] if text_pairs else [])
    return ServingGraph(
        archive=lambda: _build_archive(model, network, spec, text_pairs),
        warmup_logs=lambda name, texts: _warmup_logs(model, name, spec, texts, text_pairs),
        parity=lambda folder, mode, texts: saved_model_parity(
            model, folder, mode, text_pairs=text_pairs, texts=texts,
            label_names=spec.label_names),
        signatures={"serving_default": text_inputs, TOKENS_SIGNATURE: list(TOKEN_INPUT_NAMES),
                    ENCODE_SIGNATURE: text_inputs},
        outputs=[PROBABILITIES, LABEL_ID, LABEL],
        description=spec.to_dict())


def export_saved_model(model, output_dir, model_name: str = "albert", version: int = 1, *,
                       label_names=None, text_pairs: bool = False, keras_int8: bool = False,
                       warmup_texts=None, base_path_prefix: str | None = None,
                       overwrite: bool = False, parity: bool = True, parity_texts=None,
                       allow_mismatch: bool = False) -> dict:
    """Write `<output_dir>/<model_name>/<version>/` for TF Serving, plus `models.config`.

    Args:
        model: a keras-hub `TextClassifier` or an albert_tf `TokenClassifier`, with its
            preprocessor (a tagger's `serving_default` takes raw sentences and returns word
            tags, see `tagging_graph`).
        output_dir: the serving root (the folder TF Serving's `--model_config_file` lives in).
        model_name: the served model's name.
        version: integer version folder.
        label_names: class names in id order (the `label` output); default the ids.
        text_pairs: text classifiers: the text signature takes a second string, `text_pair`.
        keras_int8: store Keras 3 int8 weights (`model.quantize("int8")` on a copy).
        warmup_texts: texts for the warm-up records (default: the task's).
        base_path_prefix: the serving root as the server sees it, for `models.config`:
            default `/models` (the container mount in `export/serving/README.md`).
        overwrite: replace an existing version folder.
        parity: compare the signatures with the Keras model on `parity_texts`; a failed
            check (float32 outputs beyond 1e-4, in-graph token ids unlike keras-hub's) raises
            `ParityError` and publishes nothing.
        parity_texts: texts for the parity check (default `parity.PARITY_TEXTS`, the suite;
            for a tagger `tagging_graph.PARITY_SENTENCES`).
        allow_mismatch: publish even when the parity check fails, recording the failures in
            the report.

    Returns:
        A JSON-serialisable report (also written to `<output_dir>/<model_name>.v<version>.json`).

    Examples:
    >>> export_saved_model(model, "serving", "sentiment", 1,
    ...                    label_names=["negative", "positive"])  # doctest: +SKIP
    """
    from albert_tf.json_files import write_json
    from albert_tf.tasks.adapter import adapter_for

    check_model_name(model_name)
    version = check_version(version)
    root = Path(output_dir)
    target = version_dir(root, model_name, version)
    if target.exists() and not overwrite:
        raise UserError(f"{target} already exists: choose another version or pass overwrite")
    network = keras_int8_copy(model) if keras_int8 else model
    graph = adapter_for(model).serving_graph(model, network, label_names, text_pairs)
    started = time.perf_counter()
    staging = staging_dir(root, model_name, version)
    created = [folder for folder in (staging.parent, root) if not folder.exists()]
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        archive = graph.archive()
        logger.info("writing SavedModel %s version %d%s", model_name, version,
                    " (Keras int8 weights)" if keras_int8 else "")
        archive.write_out(str(staging), verbose=False)
        warmup = write_warmup_requests(
            staging, graph.warmup_logs(model_name, warmup_texts or graph.warmup_texts))
        parity_report = None
        if parity:  # on the staging folder: a failed check publishes nothing
            from albert_tf.deploy.parity import enforce_parity

            parity_report = enforce_parity(
                graph.parity(staging, "keras-int8" if keras_int8 else "float32", parity_texts),
                f"SavedModel {model_name} version {version}", allow_mismatch)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # never leave a half-written version behind
        for folder in created:  # nor the empty folders made for it
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    publish_version(staging, target, overwrite=overwrite)
    config = write_models_config(root, base_path_prefix)
    report = {
        "artifact": "saved_model",
        "path": str(target),
        "model_name": model_name,
        "version": version,
        "models_config": str(config),
        "warmup_requests": str(target / warmup.relative_to(staging)),
        "signatures": graph.signatures,
        "outputs": graph.outputs,
        "keras_int8": keras_int8,
        "classifier": graph.description,
        "size_bytes": _folder_size(target),
        "sha256": _tree_sha256(target),
        "export_seconds": round(time.perf_counter() - started, 2),
    }
    if parity_report is not None:
        report["parity"] = parity_report
    write_json(report, root / f"{model_name}.v{version}.json")
    return report
