"""Write bench results as `results.json`, `report.md` and a self-contained `report.html`:
one report for every task, its columns and speed-ups named by the task adapter
(`albert_tf.tasks`, picked by the results' `task`, default classification).

One table, a row per artifact (runs side by side as row groups):

artifact, kind, accuracy (classification) or token accuracy (token classification), the
task's other metrics (expected calibration error, ECE, 15 bins; entity F1 for entity tag
sets), change against the teacher, parameters, size and gzip size (MB),
median latency per thread count, p90 at the first, achieved GFLOP/s (and the share of the
machine's matmul peak) at the last, peak memory, the task's speed-ups (classification: against
the teacher's SavedModel and float32 TFLite; tagging: against the teacher's float32 TFLite);
a column no row has a value for is left out. Then the baselines trained on the same training
split (majority class, TF-IDF + LR; majority tag, most frequent tag, gazetteer). Below it:
entity precision / recall / F1 per type (entity tag sets), the notes (machine, timing
conditions, baselines, each artifact's paired difference against TF-IDF + LR), the
real-length table, the latency grid (when more than one shape was timed), gates; in HTML also
the plots (accuracy against latency and against size, Pareto front marked), embedded as
base64 PNG. The first line says what to ship (`ship_line`).
"""

from __future__ import annotations

import base64
import html
import json
import logging
from pathlib import Path

from albert_tf.bench.measure import teacher_references
from albert_tf.errors import UserError
from albert_tf.json_files import write_json

logger = logging.getLogger(__name__)


def _mb(value) -> str:
    return "" if value is None else f"{value / 1e6:.2f}"


def _num(value, fmt="{:.2f}") -> str:
    return "" if value is None else fmt.format(value)


def thread_columns(runs: list[dict]) -> list[str]:
    keys = {key for run in runs for row in run["artifacts"] for key in (row.get("latency") or {})}
    return sorted(keys, key=int)


def task_of(run: dict):
    """The task adapter of a run's results (they name their `task`; older ones are
    classification)."""
    from albert_tf.tasks.adapter import task_adapter

    return task_adapter(run.get("task", "classification"))


def _has(runs, test) -> bool:
    return any(test(row) for run in runs for row in run["artifacts"] + (run.get("baselines")
                                                                        or []))


def table(runs: list[dict]) -> tuple[list[str], list[tuple[str, list[list[str]]]]]:
    """`(header, [(group title, rows of cells)])` shared by the markdown and HTML reports."""
    threads = thread_columns(runs)
    task = task_of(runs[0])
    metrics = [(key, title, fmt) for key, title, fmt in task.report_metrics
               if _has(runs, lambda row, key=key: row.get(key) is not None)]
    flops = _has(runs, lambda row: any("achieved_gflops" in v
                                       for v in (row.get("latency") or {}).values()))
    optional = {"parameters": _has(runs, lambda row: row.get("parameters") is not None),
                "memory": _has(runs, lambda row: bool(row.get("memory")))}
    header = ["artifact", "kind", task.accuracy_key.replace("_", " ")]
    header += [title for _, title, _ in metrics] + ["Δ vs teacher"]
    header += (["parameters"] if optional["parameters"] else []) + ["size MB", "gzip MB"]
    header += [f"median ms ({t} thr)" for t in threads]
    if threads:
        header += [f"p90 ms ({threads[0]} thr)"]
        header += [f"GFLOP/s ({threads[-1]} thr, % peak)"] if flops else []
    header += (["peak RSS MB"] if optional["memory"] else [])
    header += [title for _, title in task.report_speedups]
    groups = []
    for run in runs:
        peak = (run.get("machine") or {}).get("matmul_peak_gflops", {})
        int8_peak = (run.get("machine") or {}).get("int8_matmul_peak_gops", {})
        body = []
        for row in run["artifacts"]:
            latency = row.get("latency") or {}
            name = row["artifact"] + (" (teacher)" if row.get("role") == "teacher" else "")
            if row["artifact"] == run.get("gated_artifact"):
                name += " (shipped)"
            cells = [name, row.get("kind", ""), _num(row.get(task.accuracy_key), "{:.4f}")]
            cells += [_num(row.get(key), fmt) for key, _, fmt in metrics]
            cells.append(_num(row.get("accuracy_change"), "{:+.4f}"))
            cells += [_num(row.get("parameters"), "{:,}")] if optional["parameters"] else []
            cells += [_mb(row.get("size_bytes")), _mb(row.get("gzip_bytes"))]
            cells += [_num(latency[t]["median_ms"]) if t in latency else "" for t in threads]
            if threads:
                cells.append(_num(latency[threads[0]]["p90_ms"]) if threads[0] in latency
                             else "")
            if threads and flops:
                last = next((t for t in reversed(threads) if t in latency), None)
                cell = ""
                if last is not None and "achieved_gflops" in latency[last]:
                    achieved = latency[last]["achieved_gflops"]
                    share = _peak_share(achieved, peak.get(last), row.get("mode"),
                                        int8_peak.get(last))
                    cell = f"{achieved:.2f}{share}" + ("" if last == threads[-1]
                                                       else f" @{last}")
                cells.append(cell)
            if optional["memory"]:
                cells.append(_num((row.get("memory") or {}).get("peak_rss_mb"), "{:.0f}"))
            cells += [_speedup_cell(row, key) for key, _ in task.report_speedups]
            body.append(cells)
        for baseline in run.get("baselines") or []:
            # A baseline's `accuracy` is the task's accuracy (token accuracy for taggers).
            cells = [f"{baseline['baseline']} (baseline)", "baseline",
                     _num(baseline["accuracy"], "{:.4f}")]
            cells += [_num(baseline.get(key), fmt) for key, _, fmt in metrics]
            body.append(cells + [""] * (len(header) - len(cells)))
        groups.append((run.get("title", "run"), body))
    return header, groups


def _peak_share(achieved: float, peak: float | None, mode: str | None,
                int8_peak: float | None = None) -> str:
    """The share of the matmul peak of the artifact's precision: int8 artifacts against the
    int8 peak (their products are int8 dot products), the others against float32. A share
    above 100 % is a measurement error (a loaded machine, or a peak measured too low)."""
    if (mode or "").endswith("int8"):
        peak = int8_peak  # results from before the int8 peak was measured get no share
    if not peak:
        return ""
    share = 100 * achieved / peak
    return f" ({share:.0f} %{': measurement error' if share > 100 else ''})"


def _speedup_cell(row: dict, key: str) -> str:
    value, interval = row.get(key), row.get(key + "_interval")
    if value is None:
        return ""
    return f"{value:.2f}×" + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")


def teacher_row(run: dict) -> dict | None:
    """The teacher row accuracy is judged against (the retention gate, the first line): the
    one the results name (`teacher_artifact`), else the teacher's SavedModel, else its float32
    TFLite."""
    named = run.get("teacher_artifact")
    if named is not None:
        return next((r for r in run["artifacts"] if r["artifact"] == named), None)
    saved_model, tflite = teacher_references(run["artifacts"])
    return saved_model or tflite


def margin_over_baselines(row: dict, baselines, accuracy_key: str = "accuracy") -> dict | None:
    """The artifact's lead over the strongest baseline that is not the majority one (TF-IDF +
    LR; the most frequent tag or the gazetteer): on entity F1 when the row has it (NER, where
    token accuracy is mostly the O tag), else on the task's accuracy. `{value, baseline,
    measure}`, or None without such a baseline."""
    others = [b for b in baselines or [] if not b["baseline"].startswith("majority")]
    if not others:
        return None
    measure = "entity_f1" if "entity_f1" in row else accuracy_key
    score = (lambda b: b.get("entity_f1") or 0.0) if measure == "entity_f1" \
        else (lambda b: b["accuracy"])
    best = max(others, key=score)
    return {"value": round(row[measure] - score(best), 4), "baseline": best["baseline"],
            "measure": measure}


def ship_line(run: dict) -> str | None:
    """The report's first line: which file to ship, with its figures, or why none."""
    gated = run.get("gated_artifact")
    row = next((r for r in run.get("artifacts", []) if r["artifact"] == gated), None)
    if row is None:
        return None
    where = "/".join(Path(row.get("path") or gated).parts[-2:])
    failed = [g["gate"] for g in run.get("gates") or [] if not g["passed"]]
    if failed:
        return f"**Nothing to ship**: `{where}` failed its gates ({', '.join(failed)})."
    task = task_of(run)
    key, name = task.accuracy_key, task.accuracy_key.replace("_", " ")
    teacher = teacher_row(run)
    speedup = task.report_speedups[-1][0]  # against the teacher's float32 TFLite
    parts = [f"{row['size_bytes'] / 1e6:.2f} MB"]
    if row.get(speedup):
        parts.append(f"{_speedup_cell(row, speedup)} faster than the "
                     f"teacher's float32 TFLite ({run['threads'][0]} thread"
                     f"{'s' if run['threads'][0] > 1 else ''})")
    if teacher and teacher.get(key):
        parts.append(f"{100 * row[key] / teacher[key]:.1f} % of the teacher's {name} "
                     f"({row[key]:.4f} against {teacher[key]:.4f})")
    margin = margin_over_baselines(row, run.get("baselines"), key)
    if margin is not None:
        measure = "" if margin["measure"] == key else \
            f" of {margin['measure'].replace('_', ' ').replace('entity f1', 'entity F1')}"
        parts.append(f"{100 * margin['value']:+.1f} points{measure} over {margin['baseline']}")
    return f"**Ship `{where}`**: " + ", ".join(parts) + "."


def _md_table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(cells) + " |" for cells in rows]


def _real_length_rows(runs):
    header = ["run", "artifact", "threads", "examples", "padded length", "mean real length",
              "padded mean ms", "real-length mean ms", "padded p90 ms", "real-length p90 ms",
              "speed-up", "max Δ probability"]
    rows = []
    for run in runs:
        for r in run.get("real_length") or []:
            rows.append([run.get("title", ""), r["artifact"], str(r["threads"]),
                         str(r["examples"]), str(r["padded_length"]),
                         f"{r['mean_real_length']:.1f}", f"{r['fixed']['mean_ms']:.2f}",
                         f"{r['real']['mean_ms']:.2f}", f"{r['fixed']['p90_ms']:.2f}",
                         f"{r['real']['p90_ms']:.2f}", f"{r['speedup']:.2f}×",
                         f"{r['max_probability_difference']:.2g}"])
    return header, rows


def _grid_rows(runs):
    header = ["run", "artifact", "batch", "length", "threads", "median ms", "p90 ms", "p99 ms",
              "GFLOP", "GFLOP/s"]
    rows = []
    for run in runs:
        for row in run["artifacts"]:
            for p in row.get("grid") or []:
                rows.append([run.get("title", ""), row["artifact"], str(p["batch_size"]),
                             str(p["sequence_length"]), str(p["threads"]),
                             f"{p['median_ms']:.2f}", f"{p['p90_ms']:.2f}",
                             f"{p['p99_ms']:.2f}", f"{p['flops'] / 1e9:.3f}",
                             f"{p['achieved_gflops']:.2f}"])
    return header, rows


def _notes(runs) -> list[str]:
    lines = []
    for run in runs:
        prefix = f"{run.get('title', '')}: " if len(runs) > 1 else ""
        machine = run.get("machine")
        if machine:
            peaks = ", ".join(f"{v:.1f} GFLOP/s ({k} thr)"
                              for k, v in machine["matmul_peak_gflops"].items())
            int8 = ", ".join(f"{v:.0f} GOP/s ({k} thr)"
                             for k, v in (machine.get("int8_matmul_peak_gops") or {}).items())
            lines.append(f"- {prefix}machine: {machine['cpu']}, {machine['logical_cpus']} "
                         f"logical CPUs; float32 matmul peak {peaks}"
                         + (f"; int8 (TFLite dynamic-int8) matmul peak {int8}" if int8 else ""))
        lines += noise_notes(run, prefix)
        words = f" ({run['test_words']} words)" if run.get("test_words") else ""
        onnx = f"; ONNX Runtime baseline: {run['onnx']}" if "onnx" in run else ""
        lines.append(f"- {prefix}{task_of(run).accuracy_key.replace('_', ' ')} on "
                     f"{run.get('eval_examples')} test examples{words}{onnx}")
        lines += _baseline_notes(run, prefix)
    flops = _has(runs, lambda row: any("achieved_gflops" in v
                                       for v in (row.get("latency") or {}).values()))
    lines.append("- latency: one batch per call, warm-up first, all artifacts timed "
                 "interleaved" + ("; TensorFlow runtimes (keras, saved_model) use all cores. "
                                  "GFLOP/s: matrix-product FLOPs counted from the model "
                                  "configuration / median." if flops else "."))
    return lines


def _per_type_rows(runs):
    """Entity precision / recall / F1 per type of each row and baseline that has them."""
    scored = [(row["artifact"], row["entity_per_type"]) for run in runs
              for row in run["artifacts"] if row.get("entity_per_type")]
    scored += [(f"{b['baseline']} (baseline)", b["entity_per_type"]) for run in runs
               for b in run.get("baselines") or [] if b.get("entity_per_type")]
    types = sorted({t for _, scores in scored for t in scores})
    rows = [[name] + ["{precision:.3f} / {recall:.3f} / {f1:.3f}".format(**scores[t])
                      if t in scores else "" for t in types] for name, scores in scored]
    return ["artifact"] + types, rows


def noise_notes(run: dict, prefix: str) -> list[str]:
    noise = run.get("noise")
    if not noise:
        return []
    if noise["other_load_per_cpu"] is None:
        figures = "no /proc/stat here: other processes' load unknown"
    else:
        figures = (f"load average {noise['loadavg_start'][0]} at the start, "
                   f"{noise['loadavg_end'][0]} at the end (this benchmark's own threads "
                   f"included); other processes used {noise['other_load_per_cpu']:.2f} of "
                   f"each CPU, steal {100 * noise['steal_fraction']:.1f} %")
    advice = []
    if noise["reasons"] and any("interval" not in r for r in noise["reasons"]):
        advice.append("re-run on a quiet machine")
    if any("interval" in r for r in noise["reasons"]):
        advice.append("time more calls (`--runs`, a recipe's `bench.latency_runs`)")
    verdict = ("**NOISY** timings (" + "; ".join(noise["reasons"]) + "): " + " and ".join(advice)
               + " before quoting them") if noise["noisy"] else "quiet"
    return [f"- {prefix}timing conditions: {verdict}; {figures}. Speed-ups: median ratio "
            "[paired-bootstrap 95 % interval over the interleaved timings]"]


def _baseline_notes(run: dict, prefix: str) -> list[str]:
    """What the baselines are, and each artifact's paired difference against TF-IDF + LR."""
    baselines = run.get("baselines")
    if not baselines:
        return []
    lines = [f"- {prefix}baselines trained on the same {baselines[0]['train_examples']} "
             "training examples: " + "; ".join(f"{b['baseline']}: {b['method']}"
                                              for b in baselines)]
    paired = [(row["artifact"], row["paired_vs_tfidf"]) for row in run["artifacts"]
              if "paired_vs_tfidf" in row]
    if paired:
        gated = run.get("gated_artifact")
        lines.append(
            f"- {prefix}accuracy minus TF-IDF + LR's on the same {paired[0][1]['examples']} "
            "test examples [paired bootstrap 95 % interval]: " + "; ".join(
                f"{name}{' (gated)' if name == gated else ''} {p['difference']:+.4f} "
                f"[{p['low']:+.4f}, {p['high']:+.4f}]" for name, p in paired))
    return lines


def _gates(runs) -> list[str]:
    lines = []
    for run in runs:
        for check in run.get("gates") or []:
            mark = "pass" if check["passed"] else "FAIL"
            lines.append(f"- {check['gate']}: {check['value']} (limit {check['limit']}): {mark}")
    return lines


def markdown(runs: list[dict]) -> str:
    """The markdown report of one or more runs."""
    title = runs[0].get("title", "bench") if len(runs) == 1 else \
        "Runs side by side: " + ", ".join(r.get("title", "") for r in runs)
    ship = ship_line(runs[0]) if len(runs) == 1 else None
    lines = ([ship, ""] if ship else []) + [f"# {title}: artifacts measured on the test split",
                                            ""]
    header, groups = table(runs)
    body = []
    for name, rows in groups:
        if len(runs) > 1:
            body.append([f"**{name}**"] + [""] * (len(header) - 1))
        body += rows
    lines += _md_table(header, body)
    per_type_header, per_type_rows = _per_type_rows(runs)
    if per_type_rows:
        lines += ["", "## Entities per type (precision / recall / F1)", ""]
        lines += _md_table(per_type_header, per_type_rows)
    lines += [""] + _notes(runs)
    real_header, real_rows = _real_length_rows(runs)
    if real_rows:
        lines += ["", "## Real sequence length against fixed padding (batch 1)", ""]
        lines += _md_table(real_header, real_rows)
    grid_header, grid_rows = _grid_rows(runs)
    artifact_rows = sum(len(run["artifacts"]) for run in runs)
    if len(grid_rows) > artifact_rows * max(1, len(thread_columns(runs))):
        lines += ["", "## Latency grid", ""] + _md_table(grid_header, grid_rows)
    gates = _gates(runs)
    if gates:
        lines += ["", "## Gates", ""] + gates
    return "\n".join(lines) + "\n"


def _plot_rows(runs, threads: str | None = None):
    """Rows for a trade-off plot; with `threads`, latency measured at that thread count only
    (TensorFlow runtimes are timed at TensorFlow's own thread count, so they appear in the
    plot of that count, never beside 1-thread TFLite timings)."""
    rows = []
    for run in runs:
        for row in run["artifacts"]:
            latency = row.get("latency") or {}
            rows.append({"label": row["artifact"],
                         "accuracy": row.get(task_of(run).accuracy_key),
                         "group": run.get("title", "") if len(runs) > 1 else "",
                         "latency": latency[threads]["median_ms"] if threads in latency
                         else None,
                         "size": row.get("size_bytes", 0) / 1e6})
    return rows


def _html_table(header, groups, multi: bool) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for name, rows in groups:
        if multi:
            out.append(f'<tr class="group"><td colspan="{len(header)}">{html.escape(name)}'
                       "</td></tr>")
        out += [("<tr class=\"shipped\">" if cells[0].endswith(" (shipped)") else "<tr>")
                + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
                for cells in rows]
    return "\n".join(out + ["</table>"])


def html_report(runs: list[dict]) -> str:
    """A self-contained HTML page: the tables and the two plots as embedded PNGs."""
    from albert_tf.bench.plots import tradeoff_png

    multi = len(runs) > 1
    title = next(line for line in markdown(runs).splitlines()
                 if line.startswith("# ")).lstrip("# ")
    ship = ship_line(runs[0]) if len(runs) == 1 else None
    images = []
    plots = [(_plot_rows(runs, t), "latency", f"median latency, ms (batch 1, {t} thread"
              f"{'s' if t != '1' else ''})", f"accuracy against latency, {t} thread"
              f"{'s' if t != '1' else ''}", False) for t in thread_columns(runs)]
    plots.append((_plot_rows(runs), "size", "size on disk, MB", "accuracy against size", True))
    for rows, key, label, plot_title, log_x in plots:
        png = tradeoff_png(rows, key, label, plot_title, log_x=log_x)
        images.append(f'<img alt="{html.escape(plot_title)}" '
                      f'src="data:image/png;base64,{base64.b64encode(png).decode()}">')
    header, groups = table(runs)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if ship:  # markdown's ** and ` become bold and code
        text = html.escape(ship).replace("**", "")
        text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(
            text.split("`")))
        parts.append(f'<p class="ship">{text}</p>')
    parts += [_html_table(header, groups, multi),
             "<ul>" + "".join(f"<li>{html.escape(n[2:])}</li>" for n in _notes(runs)) + "</ul>",
             "<h2>Trade-offs (circled: Pareto front)</h2>", *images]
    per_type_header, per_type_rows = _per_type_rows(runs)
    if per_type_rows:
        parts += ["<h2>Entities per type (precision / recall / F1)</h2>",
                  _html_table(per_type_header, [("", per_type_rows)], False)]
    real_header, real_rows = _real_length_rows(runs)
    if real_rows:
        parts += ["<h2>Real sequence length against fixed padding (batch 1)</h2>",
                  _html_table(real_header, [("", real_rows)], False)]
    gates = _gates(runs)
    if gates:
        parts += ["<h2>Gates</h2>", "<ul>" + "".join(f"<li>{html.escape(g[2:])}</li>"
                                                      for g in gates) + "</ul>"]
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
             "font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}tr.group td{background:#eef;"
             "font-weight:bold;text-align:left}img{max-width:48%;margin:1em 1% 0 0}"
             "tr.shipped td{background:#efe;font-weight:bold}p.ship{font-size:16px;"
             "background:#efe;padding:.5em}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(title)}</title><style>{style}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def write_report(results, folder) -> Path:
    """Write `results.json` (one run's results), `report.md` and `report.html` to `folder`.

    Args:
        results: `run_bench`'s results (plus `gates`), or a list of them (runs side by side;
            `results.json` then holds `{"runs": [...]}`).
        folder: output folder (created).
    """
    from albert_tf.deploy.tflite_export import write_atomic

    runs = results if isinstance(results, list) else [results]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(results if not isinstance(results, list) else {"runs": runs},
               folder / "results.json")
    write_atomic(folder / "report.md", markdown(runs).encode("utf-8"))
    write_atomic(folder / "report.html", html_report(runs).encode("utf-8"))
    logger.info("wrote %s (results.json, report.md, report.html)", folder)
    return folder


def load_results(run_dir) -> list[dict]:
    """The results of a run folder (`report/` or `bench/` inside it, or the folder itself)."""
    run_dir = Path(run_dir)
    for candidate in (run_dir / "bench" / "results.json", run_dir / "report" / "results.json",
                      run_dir / "results.json"):
        if candidate.is_file():
            data = json.loads(candidate.read_text())
            runs = data["runs"] if "runs" in data else [data]
            for run in runs:
                if "artifacts" not in run:
                    raise UserError(f"{candidate} holds no artifact rows: not bench results")
                run.setdefault("title", run.get("recipe") or run_dir.name)
            return runs
    raise UserError(f"no results.json in {run_dir} (looked in bench/, report/ and the folder "
                    "itself): run `albert-tf bench` or `albert-tf run` first")
