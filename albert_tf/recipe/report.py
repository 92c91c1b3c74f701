"""The recipe's last stage: measure every artifact itself, judge the gates, write the report.

One report for every task. The task adapter measures the run folder's artifacts
(`measure_run`: classification through `albert_tf.bench.run_bench`, the same code as
`albert-tf bench RUN_DIR`; token classification through `albert_tf.bench.tagging_measure`),
with the baselines trained on the run's own training split and scored on the same test
examples, and latency timed interleaved with paired intervals. Everything after that is the
same code for both tasks: the shipped row, the gates (against the teacher row, the teacher's
float32 TFLite and the strongest baseline), and `report/results.json`, `report.md` and
`report.html` (`albert_tf.bench.write_report`: the task's columns, noise notes, ship line,
plots).
"""

import logging

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


def build_report(ctx) -> dict:
    """Measure the run's artifacts; judge the gates; write the report; return the results
    (with `gates` and `gates_passed`)."""
    from albert_tf.bench import write_report
    from albert_tf.bench.measure import teacher_references
    from albert_tf.bench.report import margin_over_baselines, teacher_row

    recipe, adapter = ctx.recipe, ctx.adapter
    folder = ctx.folder("report")
    results = adapter.measure_run(ctx.run_dir, ctx.latest_model_dir("export"), folder,
                                  ctx.splits.train, ctx.splits.test, recipe.bench,
                                  recipe.data.seed, recipe.name)
    rows = results["artifacts"]
    shipped = next((r for r in rows if r.get("role") != "teacher" and r.get("kind") == "tflite"
                    and r.get("mode") == recipe.gates.artifact), None)
    if shipped is None:
        raise UserError(f"the gates judge {recipe.gates.artifact!r}, but export/ has no "
                        f"model-{recipe.gates.artifact}.tflite")
    key = adapter.accuracy_key
    teacher = teacher_row(results)
    teacher_tflite = teacher_references(rows)[1]
    margin = margin_over_baselines(shipped, results.get("baselines"), key)
    gates = recipe.gates.judge(
        None if teacher is None else teacher[key] - shipped[key],
        shipped.get(adapter.report_speedups[-1][0]), shipped["size_bytes"],
        retention=None if not teacher or not teacher[key] else shipped[key] / teacher[key],
        size_reduction=None if teacher_tflite is None
        else teacher_tflite["size_bytes"] / shipped["size_bytes"],
        margin=None if margin is None else margin["value"])
    shipped["shipped"] = True
    results.update(recipe=recipe.name, task=recipe.task, test_examples=results["eval_examples"],
                   gates=gates, gated_artifact=shipped["artifact"],
                   gates_passed=all(check["passed"] for check in gates),
                   shipped={"artifact": shipped["artifact"],
                            "margin_over_baseline": None if margin is None else margin["value"]})
    write_report(results, folder)
    return results
