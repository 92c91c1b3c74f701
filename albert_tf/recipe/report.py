"""The recipe's last stage: measure every artifact itself, judge the gates, write the report.

Accuracy comes from running each artifact over the test split (ai-edge-litert for `.tflite`,
the loaded signature for the SavedModel); latency from the same files, one example per call,
for each thread count; speed-ups are against the teacher's float32 TFLite file measured in the
same run.
"""

import gzip
import json
import logging
from pathlib import Path

from albert_tf.evaluate import write_json

logger = logging.getLogger(__name__)


def _gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def _measure_tflite(path: Path, examples, packed, threads, runs) -> dict:
    from albert_tf.bench.latency import latency_stats
    from albert_tf.deploy import TFLiteRunner
    from albert_tf.evaluate import classification_report

    runner = TFLiteRunner(path, num_threads=max(threads))
    probabilities = runner.predict_packed(packed)
    report = classification_report(examples.labels, probabilities, examples.label_names)
    sample = {name: values[:runner.batch_size] for name, values in packed.items()}
    latency = {}
    for count in threads:
        timed = TFLiteRunner(path, num_threads=count)
        latency[str(count)] = latency_stats(lambda: timed.predict_packed(sample), runs)
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
            "size_bytes": path.stat().st_size, "gzip_bytes": _gzip_size(path),
            "latency": latency}


def _judge(row: dict, teacher: dict | None, gates) -> list[dict]:
    checks = []
    if gates.max_accuracy_drop is not None and teacher is not None:
        drop = teacher["accuracy"] - row["accuracy"]
        checks.append({"gate": "max_accuracy_drop", "limit": gates.max_accuracy_drop,
                       "value": round(drop, 4), "passed": drop <= gates.max_accuracy_drop})
    if gates.min_speedup is not None and row.get("speedup") is not None:
        checks.append({"gate": "min_speedup", "limit": gates.min_speedup,
                       "value": row["speedup"], "passed": row["speedup"] >= gates.min_speedup})
    if gates.max_size_mb is not None:
        size = row["size_bytes"] / 1e6
        checks.append({"gate": "max_size_mb", "limit": gates.max_size_mb,
                       "value": round(size, 3), "passed": size <= gates.max_size_mb})
    return checks


def _markdown(rows: list[dict], threads, gates: list[dict], recipe_name: str) -> str:
    head = ["artifact", "accuracy", "Δ vs teacher", "size MB", "gzip MB"]
    head += [f"median ms ({t} thr)" for t in threads] + [f"p90 ms ({threads[0]} thr)",
                                                       "speed-up"]
    lines = [f"# {recipe_name}: artifacts measured on the test split", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["artifact"], f"{row['accuracy']:.4f}",
                 "" if row.get("accuracy_change") is None else f"{row['accuracy_change']:+.4f}",
                 f"{row['size_bytes'] / 1e6:.2f}",
                 "" if row.get("gzip_bytes") is None else f"{row['gzip_bytes'] / 1e6:.2f}"]
        latency = row.get("latency") or {}
        cells += [f"{latency[str(t)]['median_ms']:.2f}" if str(t) in latency else ""
                  for t in threads]
        first = latency.get(str(threads[0]))
        cells += [f"{first['p90_ms']:.2f}" if first else "",
                  "" if row.get("speedup") is None else f"{row['speedup']:.2f}×"]
        lines.append("| " + " | ".join(cells) + " |")
    if gates:
        lines += ["", "## Gates", ""]
        for check in gates:
            mark = "pass" if check["passed"] else "FAIL"
            lines.append(f"- {check['gate']}: {check['value']} (limit {check['limit']}): {mark}")
    return "\n".join(lines) + "\n"


def build_report(ctx) -> dict:
    """Measure the run's artifacts; write `report/results.json` and `report/report.md`."""
    from albert_tf.deploy import evaluate_saved_model
    from albert_tf.deploy.classifier_graph import pack_texts
    from albert_tf.models import load_classifier

    recipe = ctx.recipe
    bench = recipe.bench
    test = ctx.splits.test
    if bench.eval_limit is not None and bench.eval_limit < len(test):
        from albert_tf.data import subset

        test = subset(test, bench.eval_limit, seed=recipe.data.seed)
    export_dir = ctx.folder("export")
    final_model = load_classifier(ctx.latest_model_dir("export"))
    packed = pack_texts(final_model, test.texts, test.pairs)
    rows = []
    teacher_row = None
    teacher_file = export_dir / "teacher-float32.tflite"
    if teacher_file.is_file():
        teacher = load_classifier(ctx.model_dir("teacher"))
        teacher_packed = pack_texts(teacher, test.texts, test.pairs)
        logger.info("report: measuring %s", teacher_file.name)
        teacher_row = {"artifact": teacher_file.name,
                       **_measure_tflite(teacher_file, test, teacher_packed, bench.threads,
                                         bench.latency_runs)}
        rows.append(teacher_row)
    for mode in recipe.export.tflite_modes:
        path = export_dir / f"model-{mode}.tflite"
        logger.info("report: measuring %s", path.name)
        rows.append({"artifact": path.name, "mode": mode,
                     **_measure_tflite(path, test, packed, bench.threads, bench.latency_runs)})
    if recipe.export.saved_model:
        folder = export_dir / "serving" / recipe.export.model_name / str(recipe.export.version)
        logger.info("report: measuring the SavedModel's raw-text signature")
        result = evaluate_saved_model(folder, test)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        rows.append({"artifact": f"saved_model ({recipe.export.model_name}/"
                                 f"{recipe.export.version}, raw text)",
                     "accuracy": result["accuracy"], "macro_f1": result["macro_f1"],
                     "size_bytes": size, "gzip_bytes": None, "latency": None})
    first = str(bench.threads[0])
    for row in rows:
        if teacher_row is not None:
            row["accuracy_change"] = round(row["accuracy"] - teacher_row["accuracy"], 4)
            if row.get("latency"):
                row["speedup"] = round(teacher_row["latency"][first]["median_ms"]
                                       / row["latency"][first]["median_ms"], 3)
    shipped = next(r for r in rows if r.get("mode") == recipe.gates.artifact)
    gates = _judge(shipped, teacher_row, recipe.gates)
    results = {"recipe": recipe.name, "test_examples": len(test), "threads": bench.threads,
               "artifacts": rows, "gates": gates,
               "gates_passed": all(check["passed"] for check in gates)}
    folder = ctx.folder("report")
    write_json(results, folder / "results.json")
    (folder / "report.md").write_text(_markdown(rows, bench.threads, gates, recipe.name))
    return results
