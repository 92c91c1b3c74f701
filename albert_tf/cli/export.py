"""`albert-tf export`: write a TFLite file or a TF Serving SavedModel from a saved classifier."""

from albert_tf.cli.common import add_data_arguments, data_spec, positive_int

FORMATS = ("tflite", "saved-model")


def register(subparsers):
    from albert_tf.deploy.tflite_export import TFLITE_MODES

    parser = subparsers.add_parser(
        "export", help="export a classifier to TFLite (any precision mode, token ids or raw "
                       "text in) or to a TF Serving SavedModel, with parity checks",
        description="Export a classifier saved by `albert-tf finetune` (or distill / prune). "
                    "Every export is checked against the Keras model on awkward texts and "
                    "described in a JSON report beside the artifact. Calibrated modes (int8, "
                    "int16x8) draw their representative data from the training split of "
                    "--data; --evaluate scores the artifact itself on the test split.")
    parser.add_argument("model_dir", help="classifier folder (e.g. runs/finetune/model)")
    parser.add_argument("--format", choices=FORMATS, default="tflite",
                        help="tflite: one .tflite file; saved-model: TF Serving layout "
                             "<output>/<model-name>/<version>/ with models.config")
    parser.add_argument("--output", required=True,
                        help="the .tflite file to write, or the serving root folder")
    tflite = parser.add_argument_group("tflite")
    tflite.add_argument("--mode", choices=TFLITE_MODES, default="float32",
                        help="precision mode (default float32)")
    tflite.add_argument("--io-type", choices=("float", "int8"), default="float",
                        help="int8 mode: float or int8 probabilities output")
    tflite.add_argument("--raw-text", action="store_true",
                        help="take UTF-8 strings and tokenise in the graph (TF Text custom "
                             "ops; float32 / float16 / dynamic-int8)")
    tflite.add_argument("--calibration-samples", type=positive_int, default=100,
                        help="training examples used to calibrate int8 / int16x8")
    tflite.add_argument("--check-runtimes", action="store_true",
                        help="also run the file with ai-edge-litert and tflite-runtime 2.14 "
                             "(isolated venv, created once under the cache)")
    serving = parser.add_argument_group("saved-model")
    serving.add_argument("--model-name", default="albert", help="served model name")
    serving.add_argument("--version", type=positive_int, default=1, help="version folder")
    serving.add_argument("--keras-int8", action="store_true",
                         help="store Keras 3 int8 weights (model.quantize('int8'))")
    serving.add_argument("--base-path-prefix", default=None,
                         help="serving root as the server sees it, for models.config "
                              "(default /models: the tensorflow/serving container mount in "
                              "export/serving/README.md; $PWD/OUTPUT for a local server)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing .tflite file, or the SavedModel version")
    parser.add_argument("--text-pairs", action="store_true",
                        help="text inputs are sentence pairs: a second string input "
                             "(`text_pair`); implied when --data has pairs and is loaded")
    parser.add_argument("--evaluate", action="store_true",
                        help="score the artifact itself on the test split")
    parser.add_argument("--allow-mismatch", action="store_true",
                        help="write the artifact even when its parity check fails (float32 "
                             "outputs beyond 1e-4 of the Keras model, or in-graph token ids "
                             "unlike keras-hub's on the 234-text suite); the mismatch is "
                             "recorded in its report. Without it such an export exits 1 and "
                             "writes nothing")
    add_data_arguments(parser)
    parser.set_defaults(func=run)


def load_model_and_labels(model_dir):
    """The saved classifier (slim / pruned ones included) and its label names."""
    import albert_tf.models.albert_slim  # noqa: F401  (registers slim classes for loading)
    from albert_tf.models import load_classifier, load_label_names

    model = load_classifier(model_dir)
    return model, load_label_names(model_dir, model.num_classes)


def load_data(args, label_names):
    """Train / dev / test splits of --data, checked against the model's labels."""
    from albert_tf.data.spec import load_splits
    from albert_tf.errors import UserError

    train, dev, test = load_splits(data_spec(args))
    if list(train.label_names) != list(label_names):
        raise UserError(f"the model's labels {list(label_names)} differ from the data's "
                        f"{list(train.label_names)}: pass the data the model was trained on")
    return train, dev, test


def _needs_data(args) -> bool:
    return args.evaluate or (args.format == "tflite" and args.mode in ("int8", "int16x8"))


def run(args) -> int:
    import json
    from pathlib import Path

    from albert_tf.deploy import (
        evaluate_saved_model,
        evaluate_tflite,
        export_saved_model,
        export_tflite,
        runtime_compatibility,
    )
    from albert_tf.deploy.tflite_export import report_path
    from albert_tf.errors import UserError, check_output_file
    from albert_tf.json_files import write_json

    if args.format == "tflite":  # before the model loads: nothing is lost on a wrong path
        check_output_file(args.output, args.overwrite)
    model, label_names = load_model_and_labels(args.model_dir)
    train = test = None
    if _needs_data(args):
        train, _, test = load_data(args, label_names)
    text_pairs = args.text_pairs or (train is not None and train.pairs is not None)
    if args.format == "tflite":
        if args.keras_int8:
            raise UserError("--keras-int8 applies to --format saved-model; for TFLite pick --mode")
        report = export_tflite(model, args.output, mode=args.mode, representative_data=train,
                               label_names=label_names, io_type=args.io_type,
                               raw_text=args.raw_text, text_pairs=text_pairs and args.raw_text,
                               calibration_samples=args.calibration_samples,
                               allow_mismatch=args.allow_mismatch)
        if args.evaluate:
            report["test"] = evaluate_tflite(args.output, test, model=model)
        if args.check_runtimes:
            report["runtime_compatibility"] = runtime_compatibility(args.output)
        write_json(report, report_path(Path(args.output)))
        _print_tflite(report)
    else:
        report = export_saved_model(model, args.output, args.model_name, args.version,
                                    label_names=label_names, text_pairs=text_pairs,
                                    keras_int8=args.keras_int8,
                                    base_path_prefix=args.base_path_prefix,
                                    overwrite=args.overwrite, allow_mismatch=args.allow_mismatch)
        if args.evaluate:
            report["test"] = evaluate_saved_model(report["path"], test)
            write_json(report, Path(args.output) / f"{args.model_name}.v{args.version}.json")
        print(f"SavedModel {report['path']} ({report['size_bytes'] / 1e6:.2f} MB), "
              f"models.config {report['models_config']}")
        print("parity (max abs error): text " +
              f"{report['parity']['serving_default']['max_abs_error']:.2e}, tokens "
              f"{report['parity']['tokens']['max_abs_error']:.2e}; token ids identical on "
              f"{_identical_share(report['parity']['tokenization'])}")
        _print_mismatch(report["parity"])
        if args.evaluate:
            print(json.dumps({k: report["test"][k] for k in ("examples", "accuracy",
                                                             "macro_f1")}))
    return 0


def _print_tflite(report: dict) -> None:
    import json

    parity = report["parity"]["outputs"]
    print(f"{report['path']}: {report['mode']}, {report['size_bytes'] / 1e6:.3f} MB, "
          f"ops kept float: {json.dumps(report['ops']['float_ops'])}")
    print(f"parity on {parity['texts']} texts: max abs error {parity['max_abs_error']:.2e}"
          + (f" (tolerance {parity['tolerance']:g})" if parity["tolerance"] else "")
          + f", same class {parity['argmax_agreement']:.0%}")
    if "tokenization" in report["parity"]:
        print("in-graph token ids identical to keras-hub's on "
              f"{_identical_share(report['parity']['tokenization'])}")
    _print_mismatch(report["parity"])
    if "test" in report:
        test = report["test"]
        print(f"test (run through the interpreter): accuracy {test['accuracy']:.4f}, "
              f"macro-F1 {test['macro_f1']:.4f}, median latency {test['latency_ms_median']:.2f} ms")
    if "runtime_compatibility" in report:
        for name, status in report["runtime_compatibility"]["runtimes"].items():
            print(f"{name}: {status['status']} ({status['detail'][:160]})")


def _identical_share(tokens: dict) -> str:
    differ = len(tokens.get("in_graph_mismatches", []))
    return f"{tokens['texts'] - differ} of {tokens['texts']} texts"


def _print_mismatch(parity: dict) -> None:
    if parity.get("mismatch_allowed"):
        print("parity check FAILED (written because of --allow-mismatch, recorded in the "
              "report): " + "; ".join(parity["failures"]))
