"""`albert-tf quantize`: quantized TFLite files, each scored by running it, side by side."""

from albert_tf.cli.common import add_data_arguments, fraction, non_negative_int, positive_int

DEFAULT_MODES = "float32,float16,dynamic-int8,int8,int16x8"


def register(subparsers):
    parser = subparsers.add_parser(
        "quantize", help="write TFLite files in several precision modes (optionally selective "
                         "int8) and compare their size, latency and test accuracy",
        description="Convert a saved classifier to TFLite in each --modes entry, calibrating "
                    "int8 / int16x8 on the training split of --data, and score every file "
                    "with ai-edge-litert on the test split (never the Keras model's numbers). "
                    "--selective also writes an int8 file whose most error-prone ops (TFLite "
                    "quantization debugger) stay float until the dev accuracy is within "
                    "--max-accuracy-drop of float32.")
    parser.add_argument("model_dir", help="classifier folder (e.g. runs/finetune/model)")
    parser.add_argument("--output-dir", required=True,
                        help="folder for model_<mode>.tflite files and quantize_report.json "
                             "(new or empty, unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a folder that already holds files")
    parser.add_argument("--modes", default=DEFAULT_MODES,
                        help=f"comma-separated TFLite modes (default {DEFAULT_MODES})")
    parser.add_argument("--calibration-samples", type=positive_int, default=100,
                        help="training examples used to calibrate int8 / int16x8")
    parser.add_argument("--selective", action="store_true",
                        help="also write model_int8_selective.tflite")
    parser.add_argument("--max-accuracy-drop", type=fraction, default=0.01,
                        help="selective: allowed dev accuracy loss against float32 "
                             "(default 0.01)")
    parser.add_argument("--min-float-ops", type=non_negative_int, default=0,
                        help="selective: most sensitive ops always kept float")
    parser.add_argument("--check-runtimes", action="store_true",
                        help="run every file with ai-edge-litert and tflite-runtime 2.14")
    add_data_arguments(parser)
    parser.set_defaults(func=run)


def parse_modes(text: str) -> list[str]:
    from albert_tf.deploy.tflite_export import TFLITE_MODES
    from albert_tf.errors import UserError

    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in TFLITE_MODES]
    if unknown or not modes:
        raise UserError(f"unknown --modes entries {unknown or text!r}: choose from "
                        f"{', '.join(TFLITE_MODES)}")
    return list(dict.fromkeys(modes))


def run(args) -> int:
    from pathlib import Path

    from albert_tf.cli.export import load_data, load_model_and_labels
    from albert_tf.deploy import (
        SelectiveQuantizationConfig,
        evaluate_tflite,
        export_tflite,
        runtime_compatibility,
        selective_int8,
    )
    from albert_tf.json_files import write_json
    from albert_tf.models.factory import check_output_folder

    modes = parse_modes(args.modes)
    check_output_folder(args.output_dir, args.overwrite)  # before any work
    model, label_names = load_model_and_labels(args.model_dir)
    train, dev, test = load_data(args, label_names)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    rows = {}
    for mode in modes:
        path = output / f"model_{mode}.tflite"
        report = export_tflite(model, path, mode=mode, representative_data=train,
                               label_names=label_names,
                               calibration_samples=args.calibration_samples)
        rows[mode] = _row(report, evaluate_tflite(path, test, model=model))
        if args.check_runtimes:
            rows[mode]["runtimes"] = _runtimes(runtime_compatibility(path))
    if args.selective:
        path = output / "model_int8_selective.tflite"
        report = selective_int8(
            model, path, train, dev, label_names=label_names,
            config=SelectiveQuantizationConfig(max_accuracy_drop=args.max_accuracy_drop,
                                               min_float_ops=args.min_float_ops,
                                               calibration_samples=args.calibration_samples))
        rows["int8-selective"] = _row(report, evaluate_tflite(path, test, model=model))
        rows["int8-selective"].update(
            ops_kept_float=[r["op_name"] for r in report["ops_kept_float"]],
            budget_met=report["budget_met"])
        if args.check_runtimes:
            rows["int8-selective"]["runtimes"] = _runtimes(runtime_compatibility(path))
    summary = {"model_dir": str(args.model_dir), "data": args.source,
               "test_examples": len(test.texts), "artifacts": rows}
    write_json(summary, output / "quantize_report.json")
    _print_table(rows)
    print(f"report: {output / 'quantize_report.json'}")
    return 0


def _row(report: dict, test: dict) -> dict:
    parity = report.get("parity", {}).get("outputs", {})
    return {
        "path": report["path"],
        "size_bytes": report["size_bytes"],
        "test_accuracy": test["accuracy"],
        "test_macro_f1": test["macro_f1"],
        "latency_ms_median": test["latency_ms_median"],
        "parity_max_abs_error": parity.get("max_abs_error"),
        "float_ops": sum(report["ops"]["float_ops"].values()),
    }


def _runtimes(compat: dict) -> dict:
    return {name: status["status"] for name, status in compat["runtimes"].items()}


def _print_table(rows: dict) -> None:
    header = f"{'artifact':<16} {'size MB':>8} {'test acc':>8} {'F1':>6} {'ms':>7} " \
             f"{'parity':>9} {'float ops':>9}"
    print(header)
    for name, row in rows.items():
        parity = row["parity_max_abs_error"]
        print(f"{name:<16} {row['size_bytes'] / 1e6:>8.3f} {row['test_accuracy']:>8.4f} "
              f"{row['test_macro_f1']:>6.3f} {row['latency_ms_median']:>7.2f} "
              f"{'-' if parity is None else f'{parity:.1e}':>9} {row['float_ops']:>9}"
              + (f"  {row['runtimes']}" if "runtimes" in row else ""))
