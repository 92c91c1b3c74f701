"""`albert-tf bench`: measure artifacts (Keras, SavedModel, TFLite, ONNX) and write a report."""

from albert_tf.cli.common import add_data_arguments, data_spec, non_negative_int, positive_int


def register(subparsers):
    parser = subparsers.add_parser(
        "bench", help="measure artifacts: accuracy, size, latency (median / p90 / p99), "
                      "GFLOP/s against the machine's peak, memory; md + html report",
        description="Measure every artifact of a recipe run folder (RUN_DIR: its export/ "
                    "files, the teacher's SavedModel as the reference, the final Keras "
                    "model), or the artifacts named with --model-dir / --tflite / "
                    "--saved-model. Writes results.json, report.md and report.html to --out "
                    "(default RUN_DIR/bench).")
    parser.add_argument("run_dir", nargs="?", default=None, help="recipe run folder")
    parser.add_argument("--model-dir", default=None,
                        help="saved Keras classifier (packs the texts; measured itself too)")
    parser.add_argument("--tflite", action="append", default=[], metavar="FILE",
                        help=".tflite file made from --model-dir (repeatable)")
    parser.add_argument("--saved-model", action="append", default=[], metavar="DIR",
                        help="SavedModel version folder made from --model-dir (repeatable)")
    parser.add_argument("--teacher-dir", default=None,
                        help="saved teacher classifier: its SavedModel is the speed-up "
                             "reference (exported into --out)")
    parser.add_argument("--out", default=None, help="output folder")
    add_data_arguments(parser)
    group = parser.add_argument_group("measurement")
    group.add_argument("--threads", type=positive_int, nargs="+", default=[1, 2],
                       help="ai-edge-litert / ONNX Runtime thread counts (default: 1 2)")
    group.add_argument("--batch-sizes", type=positive_int, nargs="+", default=[1])
    group.add_argument("--sequence-lengths", type=positive_int, nargs="+", default=None,
                       help="default: each model's own length")
    group.add_argument("--runs", type=positive_int, default=20, help="timed calls (default 20)")
    group.add_argument("--warmup", type=non_negative_int, default=3)
    group.add_argument("--eval-limit", type=positive_int, default=None,
                       help="score on a seeded subset of this many test examples")
    group.add_argument("--real-length-examples", type=non_negative_int, default=32,
                       help="examples timed at real length vs padded (0: skip)")
    group.add_argument("--no-memory", action="store_true", help="skip peak memory")
    group.add_argument("--no-onnx", action="store_true", help="skip the ONNX baseline")
    group.add_argument("--no-keras", action="store_true",
                       help="RUN_DIR: leave the Keras model out")
    parser.set_defaults(func=run)


def _explicit_artifacts(args, out):
    from pathlib import Path

    from albert_tf.bench.artifacts import Artifact, tflite_mode
    from albert_tf.errors import UserError

    model_dir = Path(args.model_dir)
    if not (model_dir / "task.json").is_file():
        raise UserError(f"--model-dir {model_dir} is not a saved classifier folder")
    artifacts = []
    if args.teacher_dir:
        from albert_tf.bench.run_folder import teacher_saved_model

        teacher_dir = Path(args.teacher_dir)
        if not (teacher_dir / "task.json").is_file():
            raise UserError(f"--teacher-dir {teacher_dir} is not a saved classifier folder")
        artifacts.append(Artifact("saved_model teacher", "saved_model",
                                  teacher_saved_model(teacher_dir, out), teacher_dir,
                                  role="teacher", mode="float32"))
    for name in args.tflite:
        path = Path(name)
        if not path.is_file():
            raise UserError(f"--tflite {path}: file not found")
        artifacts.append(Artifact(path.name, "tflite", path, model_dir, mode=tflite_mode(path)))
    for name in args.saved_model:
        path = Path(name)
        if not (path / "saved_model.pb").is_file():
            raise UserError(f"--saved-model {path}: no saved_model.pb in it (give the version "
                            "folder, e.g. serving/albert/1)")
        artifacts.append(Artifact(f"saved_model {path.parent.name}/{path.name}", "saved_model",
                                  path, model_dir, mode="float32"))
    if not args.no_keras:
        artifacts.append(Artifact(f"keras {model_dir.name}", "keras", model_dir, model_dir,
                                  mode="float32"))
    return artifacts


def run(args) -> int:
    from pathlib import Path

    from albert_tf.bench import BenchConfig, run_bench, write_report
    from albert_tf.errors import UserError

    if (args.run_dir is None) == (args.model_dir is None):
        raise UserError("give a run folder (RUN_DIR) or --model-dir, not both or neither")
    config = BenchConfig(threads=args.threads, batch_sizes=args.batch_sizes,
                         sequence_lengths=args.sequence_lengths, runs=args.runs,
                         warmup=args.warmup, memory=not args.no_memory,
                         real_length_examples=args.real_length_examples,
                         onnx=not args.no_onnx)
    if args.run_dir is not None:
        from albert_tf.bench.run_folder import run_artifacts

        run_dir = Path(args.run_dir)
        if not run_dir.is_dir():
            raise UserError(f"run folder not found: {run_dir}")
        out = Path(args.out or run_dir / "bench")
        recipe, train, examples = run_examples(run_dir, args.eval_limit)
        artifacts = run_artifacts(run_dir, out, keras=not args.no_keras)
        title = recipe.name
    else:
        if args.out is None:
            raise UserError("--model-dir needs --out (where the report goes)")
        out = Path(args.out)
        from albert_tf.data.spec import load_splits

        model_dir = Path(args.model_dir)
        artifacts = _explicit_artifacts(args, out)
        train, _, examples = load_splits(data_spec(args, label_names=_label_names(model_dir)))
        if args.eval_limit is not None and args.eval_limit < len(examples):
            from albert_tf.data import subset

            examples = subset(examples, args.eval_limit, seed=args.seed)
        title = model_dir.parent.name if model_dir.name == "model" else model_dir.name
    results = run_bench(artifacts, examples, config, out, title=title, train=train)
    write_report(results, out)
    print((out / "report.md").read_text())
    print(f"report: {out / 'report.md'}  html: {out / 'report.html'}  "
          f"results: {out / 'results.json'}")
    return 0


def run_examples(run_dir, eval_limit: int | None = None):
    """`(recipe, train, test)` of a classification run folder: its training split (what the
    baselines learn from) and test split (its recipe.json's data section), the test split
    optionally a seeded subset."""
    import json
    from pathlib import Path

    from albert_tf.errors import UserError
    from albert_tf.recipe.loader import recipe_from_data

    recipe_file = Path(run_dir) / "recipe.json"
    if not recipe_file.is_file():
        raise UserError(f"{run_dir} has no recipe.json: not a recipe run folder")
    recipe = recipe_from_data(json.loads(recipe_file.read_text()))
    if recipe.task != "classification":
        raise UserError(f"albert-tf bench measures classification run folders; {run_dir} is a "
                        f"{recipe.task} run: its report is the recipe's report stage "
                        "(albert-tf run, report/report.md)")
    from albert_tf.data.spec import load_splits

    train, _, test = load_splits(recipe.data)
    if eval_limit is not None and eval_limit < len(test):
        from albert_tf.data import subset

        test = subset(test, eval_limit, seed=recipe.data.seed)
    return recipe, train, test


def _label_names(model_dir) -> list[str]:
    from albert_tf.models import load_classifier, load_label_names
    from albert_tf.models.factory import LABEL_NAMES_FILE

    if (model_dir / LABEL_NAMES_FILE).is_file():
        return load_label_names(model_dir, None)
    return load_label_names(model_dir, int(load_classifier(model_dir).num_classes))
