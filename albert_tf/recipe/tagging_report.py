"""The token-classification recipe's last stage: measure every artifact, judge the gates.

Every artifact is scored by running it over the held-out test sentences (the first
`bench.eval_limit`): the `.tflite` files through ai-edge-litert on the packed sub-tokens, the
raw-text SavedModel on the sentences joined by spaces (its own word splitting included: a gold
word it splits differently counts as wrong). Accuracy is token accuracy at the word level, and
changes are against the Keras teacher on the same sentences. Latency is one sentence per call
for each thread count, every `.tflite` file timed turn by turn (`bench.interleaved_latency`),
and each speed-up against the teacher's float32 TFLite carries a paired-bootstrap 95 %
interval; the load on the machine is recorded around the timings and the report calls itself
NOISY when others used the CPUs or an interval is wide (the classification report's rules).
The first line says what to ship: the gated artifact with its figures, or why nothing.

The majority-tag and most-frequent-tag baselines, and for entity tag sets the gazetteer
(`bench.baselines`), are trained on the run's training split and scored on the same
sentences, as rows of their own. For entity tag sets every row also has entity F1, and a
table gives precision / recall / F1 per entity type.

    report/results.json   every row, the gates, whether they passed
    report/report.md      the same as a table
"""

import difflib
import gzip
import logging
import os
from pathlib import Path

from albert_tf.bench.report import noise_notes
from albert_tf.json_files import write_json

logger = logging.getLogger(__name__)

SAVED_MODEL_BATCH = 64


def _gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def _gold_names(test) -> list[list[str]]:
    return [[test.tag_names[i] for i in sentence] for sentence in test.tags]


def _score_tflite(path: Path, preprocessor, test, names) -> dict:
    """Word-level accuracy (and entity scores) of a tagger `.tflite` on `test`, and its size."""
    from albert_tf.deploy import TFLiteRunner
    from albert_tf.deploy.tagging_graph import tflite_word_predictions
    from albert_tf.tagging.metrics import tagging_report

    predictions = tflite_word_predictions(TFLiteRunner(path), preprocessor, test.words)
    report = tagging_report(_gold_names(test), predictions.tag_names(names), names)
    return {"token_accuracy": report["token_accuracy"], **_entities(report),
            "words_without_prediction": report["words_without_prediction"],
            "size_bytes": path.stat().st_size, "gzip_bytes": _gzip_size(path)}


def _time_tflite(files: dict, preprocessors: dict, test, threads, runs) -> dict:
    """`{artifact: {threads: latency stats}}`: one test sentence per call, every file timed
    turn by turn for each thread count, so load from other jobs hits them alike."""
    from albert_tf.bench.latency import interleaved_latency
    from albert_tf.deploy import TFLiteRunner
    from albert_tf.tagging.pipeline import INPUT_NAMES

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


def _entities(report: dict) -> dict:
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
    return {"token_accuracy": report["token_accuracy"], **_entities(report),
            "words_without_prediction": report["words_without_prediction"],
            "sentences_split_differently": resplit,
            "size_bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
            "gzip_bytes": None, "latency": None}


def _markdown(results: dict) -> str:
    threads = results["threads"]
    entities = any("entity_f1" in row for row in results["artifacts"])
    head = ["artifact", "token accuracy"] + (["entity F1"] if entities else []) + [
        "Δ vs teacher", "size MB", "gzip MB"]
    head += [f"median ms ({t} thr)" for t in threads] + [f"p90 ms ({threads[0]} thr)",
                                                       "speed-up"]
    lines = [f"# {results['recipe']}: token classification, artifacts measured on "
             f"{results['test_sentences']} test sentences ({results['test_words']} words)", "",
             *([ship_line(results), ""] if ship_line(results) else []),
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in results["artifacts"]:
        change = row.get("accuracy_change")
        name = row["artifact"] + (" (shipped)" if row.get("shipped") else "")
        cells = [name, f"{row['token_accuracy']:.4f}"]
        if entities:
            cells.append(f"{row['entity_f1']:.4f}" if "entity_f1" in row else "")
        cells += ["" if change is None else f"{change:+.4f}", f"{row['size_bytes'] / 1e6:.2f}",
                 "" if row.get("gzip_bytes") is None else f"{row['gzip_bytes'] / 1e6:.2f}"]
        latency = row.get("latency") or {}
        cells += [f"{latency[str(t)]['median_ms']:.2f}" if str(t) in latency else ""
                  for t in threads]
        first = latency.get(str(threads[0]))
        interval = row.get("speedup_interval")
        cells += [f"{first['p90_ms']:.2f}" if first else "",
                  "" if row.get("speedup") is None else f"{row['speedup']:.2f}×"
                  + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")]
        lines.append("| " + " | ".join(cells) + " |")
    for baseline in results.get("baselines") or []:
        cells = [f"{baseline['baseline']} (baseline)", f"{baseline['accuracy']:.4f}"]
        if entities:
            cells.append(f"{baseline['entity_f1']:.4f}" if "entity_f1" in baseline else "")
        lines.append("| " + " | ".join(cells + [""] * (len(head) - len(cells))) + " |")
    if results.get("baselines"):
        lines += ["", f"Baselines trained on the same {results['baselines'][0]['train_examples']}"
                  " training sentences: " + "; ".join(f"{b['baseline']}: {b['method']}"
                                                      for b in results["baselines"])]
    per_type = [(row["artifact"], row["entity_per_type"]) for row in results["artifacts"]
                if row.get("entity_per_type")]
    per_type += [(f"{b['baseline']} (baseline)", b["entity_per_type"])
                 for b in results.get("baselines") or [] if b.get("entity_per_type")]
    if per_type:
        types = sorted({t for _, scores in per_type for t in scores})
        lines += ["", "## Entities per type (precision / recall / F1)", "",
                  "| artifact | " + " | ".join(types) + " |", "|---" * (len(types) + 1) + "|"]
        for name, scores in per_type:
            lines.append(f"| {name} | " + " | ".join(
                "{precision:.3f} / {recall:.3f} / {f1:.3f}".format(**scores[t]) if t in scores
                else "" for t in types) + " |")
    if results.get("noise"):
        lines += [""] + noise_notes(results, "")
    if results["gates"]:
        lines += ["", "## Gates", ""]
        for check in results["gates"]:
            mark = "pass" if check["passed"] else "FAIL"
            lines.append(f"- {check['gate']}: {check['value']} (limit {check['limit']}): {mark}")
    return "\n".join(lines) + "\n"


def ship_line(results: dict) -> str | None:
    """The report's first line: which file to ship, with its figures, or why none (None for
    results without a gated artifact)."""
    row = next((r for r in results["artifacts"] if r.get("shipped")), None)
    if row is None or not row.get("path"):
        return None
    where = "/".join(Path(row["path"]).parts[-2:])
    failed = [g["gate"] for g in results["gates"] if not g["passed"]]
    if failed:
        return f"**Nothing to ship**: `{where}` failed its gates ({', '.join(failed)})."
    teacher = results["artifacts"][0]["token_accuracy"]
    parts = [f"{row['size_bytes'] / 1e6:.2f} MB"]
    if row.get("speedup"):
        interval = row.get("speedup_interval")
        threads = results["threads"][0]
        parts.append(f"{row['speedup']:.2f}×" + (f" [{interval[0]:.2f}, {interval[1]:.2f}]"
                                                  if interval else "")
                     + f" faster than the teacher's float32 TFLite ({threads} thread"
                     + ("s" if threads > 1 else "") + ")")
    if teacher:
        parts.append(f"{100 * row['token_accuracy'] / teacher:.1f} % of the teacher's token "
                     f"accuracy ({row['token_accuracy']:.4f} against {teacher:.4f})")
    margin = (results.get("shipped") or {}).get("margin_over_baseline")
    if margin is not None:
        measure = "entity F1" if "entity_f1" in row else "token accuracy"
        parts.append(f"{100 * margin:+.1f} points of {measure} over the strongest baseline")
    return f"**Ship `{where}`**: " + ", ".join(parts) + "."


def margin_over_baselines(row: dict, baselines) -> float | None:
    """The artifact's lead over the strongest non-trivial baseline: on entity F1 when the
    row has it (NER, where token accuracy is mostly the O tag), else on token accuracy."""
    others = [b for b in baselines if b.name != "majority tag"]
    if not others:
        return None
    if "entity_f1" in row:
        return row["entity_f1"] - max(b.entity_f1 or 0.0 for b in others)
    return row["token_accuracy"] - max(b.accuracy for b in others)


def build_tagging_report(ctx) -> dict:
    """Measure a token-classification run's artifacts; write `report/results.json` and
    `report/report.md`; return the results (with `gates` and `gates_passed`)."""
    from albert_tf.bench.baselines import tagging_baselines
    from albert_tf.bench.latency import ratio_interval
    from albert_tf.bench.machine import load_snapshot, noise_summary
    from albert_tf.recipe.tagging_stages import load_tagger
    from albert_tf.tagging.examples import limit
    from albert_tf.tagging.pipeline import evaluate_tagger

    recipe = ctx.recipe
    bench = recipe.bench
    test = limit(ctx.splits.test, bench.eval_limit)
    export_dir = ctx.folder("export")
    teacher, names = load_tagger(ctx.model_dir("teacher"))
    final_model, _ = load_tagger(ctx.latest_model_dir("export"))
    logger.info("report: Keras teacher on %d test sentences", len(test))
    keras_teacher = evaluate_tagger(teacher, test)
    baselines = tagging_baselines(ctx.splits.train, test)
    teacher_folder = ctx.model_dir("teacher")
    rows = [{"artifact": "teacher (Keras float32)",
             "token_accuracy": keras_teacher["token_accuracy"], **_entities(keras_teacher),
             "size_bytes": sum(p.stat().st_size for p in teacher_folder.rglob("*")
                               if p.is_file()),
             "gzip_bytes": None, "latency": None}]
    files, preprocessors = {}, {}
    teacher_file = export_dir / "teacher-float32.tflite"
    if recipe.export.teacher_baseline:
        files[teacher_file.name] = teacher_file
        preprocessors[teacher_file.name] = teacher.preprocessor
    for mode in recipe.export.tflite_modes:
        path = export_dir / f"model-{mode}.tflite"
        files[path.name] = path
        preprocessors[path.name] = final_model.preprocessor
    for name, path in files.items():
        logger.info("report: scoring %s on %d sentences", name, len(test))
        row = {"artifact": name, "path": str(path), **_score_tflite(path, preprocessors[name],
                                                                      test, names)}
        if name != teacher_file.name:
            row["mode"] = name[len("model-"):-len(".tflite")]
        rows.append(row)
    logger.info("report: timing %d TFLite files, interleaved, %s thread(s)", len(files),
                "/".join(map(str, bench.threads)))
    load_at_start = load_snapshot()
    latency = _time_tflite(files, preprocessors, test, bench.threads, bench.latency_runs)
    load_at_end = load_snapshot()
    if recipe.export.saved_model:
        version = f"{recipe.export.model_name}/{recipe.export.version}"
        logger.info("report: measuring the raw-text SavedModel %s", version)
        rows.append({"artifact": f"saved_model ({version}, raw text -> word tags)",
                     **_measure_saved_model(export_dir / "serving" / version, test, names)})
    baseline = keras_teacher["token_accuracy"]
    first = str(bench.threads[0])
    reference = latency.get(teacher_file.name, {}).get(first)
    for row in rows[1:]:
        row["accuracy_change"] = round(row["token_accuracy"] - baseline, 4)
        row["latency"] = latency.get(row["artifact"])
        if reference is not None and row["latency"]:
            mine = row["latency"][first]
            row["speedup"] = round(reference["median_ms"] / mine["median_ms"], 3)
            if row["artifact"] != teacher_file.name:
                low, high = ratio_interval(reference["times_ms"], mine["times_ms"])
                row["speedup_interval"] = [round(low, 3), round(high, 3)]
    shipped = next(r for r in rows if r.get("mode") == recipe.gates.artifact)
    shipped["shipped"] = True
    interval = shipped.get("speedup_interval")
    noise = noise_summary(load_at_start, load_at_end, intervals=[
        (shipped["speedup"], *interval)] if interval else None)
    if noise["noisy"]:
        logger.warning("report: timings are noisy: %s", "; ".join(noise["reasons"]))
    margin = margin_over_baselines(shipped, baselines)
    gates = recipe.gates.judge(baseline - shipped["token_accuracy"], shipped.get("speedup"),
                               shipped["size_bytes"],
                               retention=shipped["token_accuracy"] / baseline if baseline
                               else None,
                               margin=margin)
    results = {"recipe": recipe.name, "task": recipe.task, "test_sentences": len(test),
               "test_words": keras_teacher["words"],
               "baselines": [baseline.to_json() for baseline in baselines],
               "threads": bench.threads, "artifacts": rows, "gates": gates,
               "gates_passed": all(check["passed"] for check in gates), "noise": noise,
               "shipped": {"artifact": shipped["artifact"], "margin_over_baseline": margin}}
    folder = ctx.folder("report")
    write_json(results, folder / "results.json")
    markdown = folder / "report.md"
    tmp = markdown.with_name(markdown.name + ".tmp")
    tmp.write_text(_markdown(results), encoding="utf-8")
    os.replace(tmp, markdown)
    return results
