"""`albert-tf evaluate`: score a saved classifier on a split of a data source."""

from albert_tf.cli.common import add_data_arguments, data_spec, positive_int


def register(subparsers):
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a saved classifier (loss, accuracy, macro-F1, per class, "
                         "confusion matrix) and write JSON",
        description="Evaluate a classifier saved by `albert-tf finetune` on the train, dev or "
                    "test split of a data source (the same seeded split as fine-tuning), or on "
                    "all of its labelled examples (`--split all`, e.g. a whole labelled file).")
    parser.add_argument("model_dir", help="classifier folder (e.g. runs/finetune/model)")
    add_data_arguments(parser)
    parser.add_argument("--split", default="test", choices=["train", "dev", "test", "all"],
                        help="which examples to score: a split, or all of them (default: test)")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--output", default=None, help="write the metrics JSON here")
    parser.set_defaults(func=run)


def run(args) -> int:
    import json

    from albert_tf.classification_metrics import evaluate_classifier
    from albert_tf.data.spec import load_all, load_splits
    from albert_tf.errors import UserError
    from albert_tf.json_files import write_json
    from albert_tf.models import load_classifier, load_label_names
    from albert_tf.text import make_dataset

    model = load_classifier(args.model_dir)
    names = load_label_names(args.model_dir, model.num_classes)
    spec = data_spec(args, label_names=names)
    if args.split == "all":
        examples = load_all(spec)
    else:
        train, dev, test = load_splits(spec)
        examples = {"train": train, "dev": dev, "test": test}[args.split]
    if list(examples.label_names) != names:
        raise UserError(f"the model's labels {names} differ from the data's "
                        f"{list(examples.label_names)}")
    ds = make_dataset(examples, model.preprocessor, args.batch_size)
    metrics = evaluate_classifier(model, ds, examples.labels, names)
    metrics.update(model_dir=str(args.model_dir), data=args.source, split=args.split)
    if args.output:
        write_json(metrics, args.output)
    print(json.dumps({k: metrics[k] for k in ("examples", "loss", "accuracy", "macro_f1")}))
    print("per class:", json.dumps(metrics["per_class"]))
    print("confusion (rows true, cols predicted):", metrics["confusion_matrix"])
    return 0
