"""`albert-tf prune`: unstructured and/or structured pruning of a saved classifier."""

import argparse

from albert_tf.cli.common import (
    add_data_arguments,
    data_spec,
    fraction,
    non_negative_int,
    positive_float,
    positive_int,
)


def _pair(separator: str, what: str):
    def parse(text: str) -> tuple[int, int]:
        parts = text.split(separator)
        try:
            first, second = (int(p) for p in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if first < 0 or second < 1:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return first, second
    return parse


def register(subparsers):
    parser = subparsers.add_parser(
        "prune", help="prune a saved classifier (sparse weights and/or fewer heads, neurons, "
                      "layers)",
        description="Load a classifier preset folder, remove attention heads / FFN neurons / "
                    "layers (structured: a smaller, faster model) and/or zero its "
                    "lowest-magnitude weights (unstructured: same shape, compresses well), "
                    "optionally fine-tune on data while the sparsity follows its schedule, "
                    "and save the result as a preset folder with prune_metrics.json.")
    parser.add_argument("model", help="saved classifier folder (keras-hub preset format)")
    parser.add_argument("output", help="folder for the pruned classifier (new or empty)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUTPUT when it already holds files")

    unstructured = parser.add_argument_group("unstructured (magnitude) pruning")
    unstructured.add_argument("--sparsity", type=fraction, default=None,
                              help="fraction of zeros in every pruned weight, e.g. 0.7")
    unstructured.add_argument("--schedule", choices=["polynomial", "constant"],
                              default="polynomial",
                              help="sparsity schedule while fine-tuning (default: polynomial)")
    unstructured.add_argument("--begin-step", type=non_negative_int, default=0,
                              help="first fine-tuning step that may update masks (default: 0)")
    unstructured.add_argument("--end-step", type=non_negative_int, default=None,
                              help="step the final sparsity is reached (default: 2/3 of "
                                   "--fine-tune-steps)")
    unstructured.add_argument("--frequency", type=positive_int, default=None,
                              help="steps between mask updates (default: a tenth of the "
                                   "pruning span)")
    unstructured.add_argument("--power", type=positive_float, default=3.0,
                              help="exponent of the polynomial schedule (default: 3)")
    unstructured.add_argument("--block-size", type=_pair("x", "ROWSxCOLS such as 1x4"),
                              default=(1, 1), help="prune ROWSxCOLS tiles together, e.g. 1x4")
    unstructured.add_argument("--block-pooling", choices=["AVG", "MAX"], default="AVG",
                              help="how a tile's magnitudes are summarised (default: AVG)")
    unstructured.add_argument("--m-by-n", type=_pair(":", "M:N such as 2:4"), default=None,
                              help="zero M of every N consecutive kernel inputs (e.g. 2:4), "
                                   "instead of --sparsity")
    unstructured.add_argument("--exclude", action="append", default=None, metavar="REGEX",
                              help="keep weights whose path matches REGEX dense (repeatable), "
                                   "e.g. --exclude logits")

    structured = parser.add_argument_group("structured pruning (ALBERT)")
    structured.add_argument("--heads-fraction", type=fraction, default=0.0,
                            help="fraction of attention heads removed from every layer")
    structured.add_argument("--ffn-fraction", type=fraction, default=0.0,
                            help="fraction of feed-forward neurons removed from every layer")
    structured.add_argument("--depth", type=positive_int, default=None,
                            help="new num_layers (times the shared layer groups are applied)")
    structured.add_argument("--keep-groups", type=positive_int, default=None,
                            help="layer groups to keep (models with num_groups > 1)")
    structured.add_argument("--keep-inner-repetitions", type=positive_int, default=None,
                            help="inner layers to keep in every group")
    structured.add_argument("--importance", choices=["magnitude", "taylor"], default="magnitude",
                            help="rank structures by weight magnitude (no data) or by "
                                 "first-order Taylor on calibration batches")
    structured.add_argument("--calibration-batches", type=positive_int, default=8,
                            help="training batches used by --importance taylor (default: 8)")

    train = parser.add_argument_group("fine-tuning and evaluation (need --data)")
    train.add_argument("--fine-tune-steps", type=non_negative_int, default=0,
                       help="training steps after pruning; 0 prunes one-shot (default: 0)")
    train.add_argument("--learning-rate", type=positive_float, default=3e-5,
                       help="Adam learning rate while fine-tuning (default: 3e-5)")
    train.add_argument("--batch-size", type=positive_int, default=32,
                       help="examples per step (default: 32)")
    train.add_argument("--evaluate", action="store_true",
                       help="measure test accuracy before and after pruning")
    add_data_arguments(parser)
    parser.set_defaults(func=run)


def config_from_args(args):
    """The `PruneConfig` the arguments describe."""
    from albert_tf.compress.prune import PruneConfig, StructuredPruneConfig, UnstructuredPruneConfig

    structured = None
    if (args.heads_fraction or args.ffn_fraction or args.depth or args.keep_groups
            or args.keep_inner_repetitions):
        structured = StructuredPruneConfig(
            heads_fraction=args.heads_fraction, ffn_fraction=args.ffn_fraction,
            depth=args.depth, keep_groups=args.keep_groups,
            keep_inner_repetitions=args.keep_inner_repetitions, importance=args.importance,
            calibration_batches=args.calibration_batches)
    unstructured = None
    if args.sparsity is not None or args.m_by_n is not None:
        unstructured = UnstructuredPruneConfig(
            sparsity=args.sparsity or 0.0, schedule=args.schedule, begin_step=args.begin_step,
            end_step=args.end_step, frequency=args.frequency, power=args.power,
            block_size=args.block_size, block_pooling=args.block_pooling, m_by_n=args.m_by_n,
            exclude=args.exclude)
    return PruneConfig(structured=structured, unstructured=unstructured,
                       fine_tune_steps=args.fine_tune_steps, learning_rate=args.learning_rate)


def _format_table(metrics: dict) -> str:
    rows = [("parameters", f"{metrics['parameters_before']:,} -> "
                           f"{metrics['parameters_after']:,}"),
            ("non-zero parameters", f"{metrics['nonzero_parameters_before']:,} -> "
                                    f"{metrics['nonzero_parameters_after']:,}")]
    if "structured" in metrics:
        before, after = metrics["structured"]["shape_before"], metrics["structured"]["shape_after"]
        for key in ("num_layers", "num_groups", "num_heads", "intermediate_dim"):
            rows.append((key, f"{before[key]} -> {after[key]}"))
    if "sparsity" in metrics:
        rows.append(("sparsity of pruned weights", f"{metrics['sparsity']:.4f}"))
    for name in ("test_before", "test_after"):
        if name in metrics:
            rows.append((f"test accuracy ({name.split('_')[1]})",
                         f"{metrics[name]['accuracy']:.4f}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def run(args) -> int:
    import keras

    from albert_tf.compress.prune import prune
    from albert_tf.errors import UserError
    from albert_tf.evaluate import evaluate, write_json
    from albert_tf.models import load_classifier, load_label_names, save_classifier
    from albert_tf.models.factory import check_output_folder

    config = config_from_args(args)
    check_output_folder(args.output, args.overwrite)  # before minutes of work, not after
    keras.utils.set_random_seed(args.seed)  # before tokenisers exist (see FinetuneConfig.seed)
    model = load_classifier(args.model)
    label_names = load_label_names(args.model, model.num_classes)
    needs_data = (args.evaluate or config.fine_tune_steps > 0
                  or (config.structured is not None and config.structured.importance == "taylor"))
    train_ds = test_ds = test = None
    metrics = {}
    if needs_data:
        from albert_tf.text import make_dataset
        from albert_tf.train.job import load_splits

        if model.preprocessor is None:
            raise UserError(f"{args.model} has no preprocessor: it cannot tokenise --data")
        train, _, test = load_splits(data_spec(args))
        if model.num_classes != len(train.label_names):
            raise UserError(f"{args.model} is a {model.num_classes}-class classifier but "
                            f"{args.data} has {len(train.label_names)} classes")
        train_ds = make_dataset(train, model.preprocessor, args.batch_size, shuffle=True,
                                seed=args.seed)
        test_ds = make_dataset(test, model.preprocessor, args.batch_size)
        if args.evaluate:
            metrics["test_before"] = evaluate(model, test_ds, test.labels, label_names)
    pruned, prune_metrics = prune(model, config, data=train_ds)
    metrics.update(prune_metrics)
    if args.evaluate:
        metrics["test_after"] = evaluate(pruned, test_ds, test.labels, label_names)
    save_classifier(pruned, args.output, label_names, overwrite=args.overwrite)
    write_json(metrics, f"{args.output}/prune_metrics.json")
    print(_format_table(metrics))
    print(f"model: {args.output}   metrics: {args.output}/prune_metrics.json")
    return 0
