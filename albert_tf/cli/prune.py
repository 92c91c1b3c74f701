"""`albert-tf prune`: unstructured and/or structured pruning of a saved classifier."""

from albert_tf.cli.common import add_data_arguments, data_spec
from albert_tf.cli.config_flags import add_config_flags, config_from_args
from albert_tf.compress.prune.config import (
    PruneConfig,
    StructuredPruneConfig,
    UnstructuredPruneConfig,
)


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
    add_config_flags(unstructured, UnstructuredPruneConfig, options={
        # No --sparsity (nor --m-by-n): no unstructured pruning.
        "sparsity": {"default": None, "help": "fraction of zeros in every pruned weight, e.g. "
                     "0.7 (without it or --m-by-n: no unstructured pruning)"},
        "block_size": {"metavar": "ROWSxCOLS"}, "m_by_n": {"metavar": "M:N"},
        "include": {"metavar": "REGEX"}, "exclude": {"metavar": "REGEX"}})
    structured = parser.add_argument_group("structured pruning (ALBERT)")
    add_config_flags(structured, StructuredPruneConfig)
    train = parser.add_argument_group("fine-tuning and evaluation (need --data)")
    add_config_flags(train, PruneConfig, skip={"structured", "unstructured"},
                     base={"structured": StructuredPruneConfig()})
    train.add_argument("--evaluate", action="store_true",
                       help="measure test accuracy before and after pruning")
    add_data_arguments(parser)
    parser.set_defaults(func=run)


def prune_config(args) -> PruneConfig:
    """The `PruneConfig` the arguments describe: structured pruning when a structure is to go,
    unstructured when a sparsity (or M:N pattern) is given."""
    structured = unstructured = None
    if (args.heads_fraction or args.ffn_fraction or args.depth or args.keep_groups
            or args.keep_inner_repetitions):
        structured = config_from_args(StructuredPruneConfig, args)
    if args.sparsity is not None or args.m_by_n is not None:
        unstructured = config_from_args(UnstructuredPruneConfig, args,
                                        sparsity=args.sparsity or 0.0)
    return config_from_args(PruneConfig, args, structured=structured, unstructured=unstructured)


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

    from albert_tf.classification_metrics import evaluate_classifier
    from albert_tf.compress.prune import prune
    from albert_tf.errors import UserError
    from albert_tf.json_files import write_json
    from albert_tf.models import load_classifier, load_label_names, save_classifier
    from albert_tf.models.factory import check_output_folder

    config = prune_config(args)
    check_output_folder(args.output, args.overwrite)  # before minutes of work, not after
    keras.utils.set_random_seed(args.seed)  # before tokenisers exist (see FinetuneConfig.seed)
    model = load_classifier(args.model)
    label_names = load_label_names(args.model, model.num_classes)
    needs_data = (args.evaluate or config.fine_tune_steps > 0
                  or (config.structured is not None and config.structured.importance == "taylor"))
    train_ds = test_ds = test = None
    metrics = {}
    if needs_data:
        from albert_tf.data.spec import load_splits
        from albert_tf.text import make_dataset

        if model.preprocessor is None:
            raise UserError(f"{args.model} has no preprocessor: it cannot tokenise --data")
        train, _, test = load_splits(data_spec(args))
        if model.num_classes != len(train.label_names):
            raise UserError(f"{args.model} is a {model.num_classes}-class classifier but "
                            f"{args.source} has {len(train.label_names)} classes")
        train_ds = make_dataset(train, model.preprocessor, args.batch_size, shuffle=True,
                                seed=args.seed)
        test_ds = make_dataset(test, model.preprocessor, args.batch_size)
        if args.evaluate:
            metrics["test_before"] = evaluate_classifier(model, test_ds, test.labels, label_names)
    pruned, prune_metrics = prune(model, config, data=train_ds)
    metrics.update(prune_metrics)
    if args.evaluate:
        metrics["test_after"] = evaluate_classifier(pruned, test_ds, test.labels, label_names)
    save_classifier(pruned, args.output, label_names, overwrite=args.overwrite)
    write_json(metrics, f"{args.output}/prune_metrics.json")
    print(_format_table(metrics))
    print(f"model: {args.output}   metrics: {args.output}/prune_metrics.json")
    return 0
