"""`albert-tf demo`: the job behind `make demo`, the quickstart recipe end to end.

Runs `recipes/quickstart.yaml` (the embedded default) exactly as `albert-tf run` would: MiniLM
teacher fine-tuned on a rotten-tomatoes subset, albertized ALBERT student distilled, pruned,
quantized, exported for TFLite and TF Serving, every artifact measured, gates judged.
"""

from pathlib import Path

from albert_tf.errors import UserError

# The repository's recipe: the demo runs what the README and `albert-tf run` describe.
QUICKSTART = Path(__file__).resolve().parents[2] / "recipes" / "quickstart.yaml"


def register(subparsers):
    parser = subparsers.add_parser(
        "demo", help="run recipes/quickstart.yaml end to end (make demo)",
        description="Run the quickstart recipe: fine-tune the MiniLM teacher on 2,000 "
                    "rotten-tomatoes snippets, distil an albertized ALBERT student (3 layers "
                    "annealed into one shared layer), quantize, export TFLite and a TF "
                    "Serving SavedModel, and report every artifact measured on 400 held-out "
                    "snippets. A killed demo resumes where it stopped. Exit code 1 when a "
                    "gate fails.")
    parser.add_argument("--run-dir", default="runs/quickstart", help="output folder")
    parser.add_argument("--fresh", action="store_true",
                        help="start over instead of resuming an earlier demo run")
    parser.set_defaults(func=run)


def run(args) -> int:
    import argparse
    import shutil
    import time

    from albert_tf.cli import run as run_command

    if not QUICKSTART.is_file():
        raise UserError(f"the demo runs {QUICKSTART}, which this installation lacks: run it "
                        "from a checkout of the repository, or use `albert-tf run RECIPE`")
    if args.fresh:
        shutil.rmtree(args.run_dir, ignore_errors=True)
    started = time.perf_counter()
    code = run_command.run(argparse.Namespace(recipe=str(QUICKSTART), overrides=[],
                                              run_dir=args.run_dir, check=False))
    print(f"demo finished in {time.perf_counter() - started:.0f} s; run folder {args.run_dir} "
          f"(report.html in {args.run_dir}/report)")
    return code
