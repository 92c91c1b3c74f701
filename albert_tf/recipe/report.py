"""The recipe's last stage: measure every artifact itself, judge the gates, write the report.

The measuring is `albert_tf.bench` (the same code as `albert-tf bench RUN_DIR`): each
`.tflite` through ai-edge-litert, the SavedModels through their `tokens` signature, the final
Keras model through its compiled predict; the teacher's SavedModel (exported into `report/`)
and float32 TFLite are the speed-up references; the majority-class and TF-IDF + LR baselines
are trained on the run's own training split and scored on the same test examples. Writes
`report/results.json`, `report.md` and `report.html`.
"""

import logging

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


def build_report(ctx) -> dict:
    """Measure the run's artifacts with `albert_tf.bench`; judge the gates; write the report."""
    from albert_tf.bench import BenchConfig, run_bench, write_report
    from albert_tf.bench.measure import teacher_references
    from albert_tf.bench.run_folder import run_artifacts

    recipe = ctx.recipe
    bench = recipe.bench
    test = ctx.splits.test
    if bench.eval_limit is not None and bench.eval_limit < len(test):
        from albert_tf.data import subset

        test = subset(test, bench.eval_limit, seed=recipe.data.seed)
    folder = ctx.folder("report")
    artifacts = run_artifacts(ctx.run_dir, folder, keras=bench.keras,
                              teacher_reference=bench.teacher_saved_model)
    config = BenchConfig(threads=list(bench.threads), batch_sizes=list(bench.batch_sizes),
                         sequence_lengths=bench.sequence_lengths, runs=bench.latency_runs,
                         warmup=bench.warmup, memory=bench.memory,
                         real_length_examples=bench.real_length_examples, onnx=bench.onnx)
    results = run_bench(artifacts, test, config, folder, title=recipe.name,
                        train=ctx.splits.train)
    rows = results["artifacts"]
    teacher_saved_model, teacher_tflite = teacher_references(rows)
    teacher = teacher_saved_model or teacher_tflite
    shipped = next((r for r in rows if r["role"] == "model" and r["kind"] == "tflite"
                    and r["mode"] == recipe.gates.artifact), None)
    if shipped is None:
        raise UserError(f"the gates judge {recipe.gates.artifact!r}, but export/ has no "
                        f"model-{recipe.gates.artifact}.tflite")
    paired = shipped.get("paired_vs_tfidf")
    gates = recipe.gates.judge(
        None if teacher is None else teacher["accuracy"] - shipped["accuracy"],
        shipped.get("speedup_vs_teacher_tflite"), shipped["size_bytes"],
        retention=None if not teacher or not teacher["accuracy"]
        else shipped["accuracy"] / teacher["accuracy"],
        size_reduction=None if teacher_tflite is None
        else teacher_tflite["size_bytes"] / shipped["size_bytes"],
        margin=None if paired is None else paired["difference"])
    results.update(recipe=recipe.name, test_examples=len(test), gates=gates,
                   gated_artifact=shipped["artifact"],
                   gates_passed=all(check["passed"] for check in gates))
    write_report(results, folder)
    return results
