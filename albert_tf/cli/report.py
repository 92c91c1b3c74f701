"""`albert-tf report`: runs side by side in one markdown + HTML report."""


def register(subparsers):
    parser = subparsers.add_parser(
        "report", help="put the measured artifacts of one or more runs side by side "
                       "(report.md + self-contained report.html with plots)",
        description="Read each RUN_DIR's results (bench/results.json, else "
                    "report/results.json) and write one combined report: a row group per "
                    "run, plots of accuracy against latency and size with the Pareto front.")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                        help="run folders measured by `albert-tf bench` or `albert-tf run`")
    parser.add_argument("--out", default="runs/report", help="output folder "
                                                              "(default runs/report)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from albert_tf.bench.report import load_results, write_report

    runs = []
    for run_dir in args.run_dirs:
        for run in load_results(run_dir):
            if len(args.run_dirs) > 1:  # runs of one recipe share its name: say which folder
                run["title"] = f"{run.get('title', 'run')} ({run_dir})"
            runs.append(run)
    out = Path(args.out)
    write_report(runs, out)
    print((out / "report.md").read_text())
    print(f"report: {out / 'report.md'}  html: {out / 'report.html'}")
    return 0
