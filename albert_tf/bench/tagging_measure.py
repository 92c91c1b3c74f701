"""Measure a token classifier's artifacts: the tagging side of the bench, whose results
`bench.report` writes like the classification bench's.

Every artifact is scored by running it over the test sentences: the Keras teacher, the
`.tflite` files through ai-edge-litert on the packed sub-tokens, the raw-text SavedModel on
the sentences joined by spaces (its own word splitting included: a gold word it splits
differently counts as wrong). Accuracy is token accuracy at the word level (each word's first
sub-token); ECE is token-level, over the words a model scored; entity tag sets add entity
precision / recall / F1. Latency is one sentence per call for each thread count, every
`.tflite` file timed turn by turn (`interleaved_latency`), and each speed-up against the
teacher's float32 TFLite carries a paired-bootstrap 95 % interval; the load on the machine is
recorded around the timings (`noise`). The majority-tag and most-frequent-tag baselines, and
the gazetteer for entity tag sets, are trained on the training split and scored on the same
sentences.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import numpy as np

from albert_tf.bench.artifacts import gzip_size, size_on_disk

logger = logging.getLogger(__name__)

SAVED_MODEL_BATCH = 64


def _gold_names(test) -> list[list[str]]:
    return [[test.tag_names[i] for i in sentence] for sentence in test.tags]


def entity_scores(report: dict) -> dict:
    """Entity scores of a tagging report, for entity (BIO) tag sets: micro F1, and per type
    precision / recall / F1."""
    from albert_tf.tagging.metrics import rounded_per_type

    entities = report.get("entities")
    if entities is None:
        return {}
    return {"entity_f1": round(entities["f1"], 4),
            "entity_precision": round(entities["precision"], 4),
            "entity_recall": round(entities["recall"], 4),
            "entity_per_type": rounded_per_type(entities["per_type"])}


def token_ece(predictions, test) -> float:
    """Expected calibration error over the words a model scored (truncated words left out)."""
    from albert_tf.classification_metrics import expected_calibration_error

    labels, rows = [], []
    for gold, ids, probabilities in zip(test.tags, predictions.tag_ids, predictions.probabilities):
        scored = np.asarray(ids) >= 0
        labels.append(np.asarray(gold)[scored])
        rows.append(np.asarray(probabilities)[scored])
    if not labels or not sum(len(x) for x in labels):
        return 0.0
    return round(expected_calibration_error(np.concatenate(labels), np.concatenate(rows)), 4)


def score_predictions(predictions, test, names) -> dict:
    """Token accuracy, ECE and (entity tag sets) entity scores of word predictions."""
    from albert_tf.tagging.metrics import tagging_report

    report = tagging_report(_gold_names(test), predictions.tag_names(names), names)
    return {"token_accuracy": report["token_accuracy"], "ece": token_ece(predictions, test),
            **entity_scores(report), "words": report["words"],
            "words_without_prediction": report["words_without_prediction"]}


def _time_tflite(files: dict, preprocessors: dict, test, threads, runs) -> dict:
    """`{artifact: {threads: latency stats}}`: one test sentence per call, every file timed
    turn by turn for each thread count, so load from other jobs hits them alike."""
    from albert_tf.bench.latency import interleaved_latency
    from albert_tf.deploy import TFLiteRunner
    from albert_tf.text.token_pipeline import INPUT_NAMES

    latency = {name: {} for name in files}
    for count in threads:
        calls = {}
        for name, path in files.items():
            runner = TFLiteRunner(path, num_threads=count)
            aligned = preprocessors[name].align(test.words[:runner.batch_size])
            sample = {key: aligned[key].numpy() for key in INPUT_NAMES}
            calls[name] = lambda runner=runner, sample=sample: runner.predict_packed(sample)
        for name, stats in interleaved_latency(calls, runs).items():
            latency[name][str(count)] = stats
    return latency


def align_word_tags(gold_words: list[str], words: list[str], tags: list[str]) -> list:
    """The predicted tag of each gold word, matching the model's own words to the gold ones
    (longest common subsequence); None for gold words the model split differently."""
    matched = [None] * len(gold_words)
    matcher = difflib.SequenceMatcher(a=gold_words, b=words, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            tag = tags[block.b + k]
            matched[block.a + k] = tag or None
    return matched


def _measure_saved_model(folder: Path, test, names) -> dict:
    import tensorflow as tf

    from albert_tf.tagging.metrics import tagging_report

    served = tf.saved_model.load(str(folder)).signatures["serving_default"]
    predicted, resplit = [], 0
    for start in range(0, len(test), SAVED_MODEL_BATCH):
        batch = test.words[start:start + SAVED_MODEL_BATCH]
        out = served(text=tf.constant([" ".join(words) for words in batch]))
        for i, gold_words in enumerate(batch):
            count = int(out["num_words"][i])
            words = [w.decode("utf-8") for w in out["words"][i, :count].numpy()]
            tags = [t.decode("utf-8") for t in out["tags"][i, :count].numpy()]
            resplit += words != gold_words
            predicted.append(align_word_tags(gold_words, words, tags))
    report = tagging_report(_gold_names(test), predicted, names)
    # Word tags only (no probabilities): no ECE.
    return {"token_accuracy": report["token_accuracy"], **entity_scores(report),
            "words_without_prediction": report["words_without_prediction"],
            "sentences_split_differently": resplit,
            "size_bytes": size_on_disk(folder), "gzip_bytes": None, "latency": None}


def measure_taggers(teacher, teacher_dir, model, tflite_files: dict, saved_model, names,
                    train, test, threads, runs: int, title: str) -> dict:
    """Score and time a token-classification run's artifacts; the results `bench.report`
    writes.

    Args:
        teacher: the Keras teacher (the accuracy reference); `teacher_dir`: its folder.
        model: the final Keras tagger (its preprocessor packs the model files' inputs).
        tflite_files: `{mode: path}` of the model's `.tflite` files, plus `"teacher"`: the
            teacher's float32 file (the speed-up reference) when exported.
        saved_model: the raw-text SavedModel folder, or None.
        names: tag names in id order.
        train, test: tagged sentences; the baselines learn from `train`.
        threads, runs: thread counts and timed calls per file and count.
        title: the report's heading.
    """
    from albert_tf.bench.baselines import tagging_baselines
    from albert_tf.bench.latency import ratio_interval
    from albert_tf.bench.machine import load_snapshot, noise_summary
    from albert_tf.deploy import TFLiteRunner
    from albert_tf.deploy.tagging_graph import tflite_word_predictions
    from albert_tf.text.token_pipeline import predict_words

    logger.info("report: Keras teacher on %d test sentences", len(test))
    keras_teacher = score_predictions(predict_words(teacher, test.words), test, names)
    words = keras_teacher.pop("words")
    teacher_row = {"artifact": "teacher (Keras float32)", "kind": "keras", "role": "teacher",
                   "mode": "float32", **keras_teacher, "size_bytes": size_on_disk(teacher_dir),
                   "gzip_bytes": None, "latency": None}
    rows, files, preprocessors = [teacher_row], {}, {}
    for mode, path in tflite_files.items():
        is_teacher = mode == "teacher"
        files[path.name] = path
        preprocessors[path.name] = (teacher if is_teacher else model).preprocessor
        logger.info("report: scoring %s on %d sentences", path.name, len(test))
        scores = score_predictions(tflite_word_predictions(
            TFLiteRunner(path), preprocessors[path.name], test.words), test, names)
        scores.pop("words")
        rows.append({"artifact": path.name, "kind": "tflite", "path": str(path),
                     **({"role": "teacher"} if is_teacher else {"mode": mode}), **scores,
                     "size_bytes": path.stat().st_size, "gzip_bytes": gzip_size(path)})
    logger.info("report: timing %d TFLite files, interleaved, %s thread(s)", len(files),
                "/".join(map(str, threads)))
    load_at_start = load_snapshot()
    latency = _time_tflite(files, preprocessors, test, threads, runs)
    load_at_end = load_snapshot()
    if saved_model is not None:
        version = "/".join(Path(saved_model).parts[-2:])
        logger.info("report: measuring the raw-text SavedModel %s", version)
        rows.append({"artifact": f"saved_model ({version}, raw text -> word tags)",
                     "kind": "saved_model", **_measure_saved_model(saved_model, test, names)})
    reference_name = tflite_files["teacher"].name if "teacher" in tflite_files else None
    reference = latency.get(reference_name, {}).get(str(threads[0]))
    intervals = []
    for row in rows[1:]:
        row["accuracy_change"] = round(row["token_accuracy"] - teacher_row["token_accuracy"], 4)
        row["latency"] = latency.get(row["artifact"])
        if reference is not None and row["latency"]:
            mine = row["latency"][str(threads[0])]
            row["speedup"] = round(reference["median_ms"] / mine["median_ms"], 3)
            if row["artifact"] != reference_name:
                low, high = ratio_interval(reference["times_ms"], mine["times_ms"])
                row["speedup_interval"] = [round(low, 3), round(high, 3)]
                intervals.append((row["speedup"], *row["speedup_interval"]))
    noise = noise_summary(load_at_start, load_at_end, intervals=intervals or None)
    if noise["noisy"]:
        logger.warning("report: timings are noisy: %s", "; ".join(noise["reasons"]))
    return {"title": title, "task": "token-classification", "eval_examples": len(test),
            "test_sentences": len(test), "test_words": words, "threads": list(threads),
            "teacher_artifact": teacher_row["artifact"],
            "baselines": [b.to_json() for b in tagging_baselines(train, test)],
            "artifacts": rows, "noise": noise}
