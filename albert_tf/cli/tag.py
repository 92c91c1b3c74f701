"""`albert-tf tag`: token classification (POS, NER) — finetune, evaluate, predict, prune,
distill, export."""

import json
import sys
from pathlib import Path

from albert_tf.cli.common import DATA_FLAG_OPTIONS, positive_int
from albert_tf.cli.config_flags import add_config_flags, config_from_args
from albert_tf.cli.distill import RENAMED as DISTILL_RENAMED
from albert_tf.cli.finetune import JOB_FLAG_OPTIONS, MODEL_FIELDS
from albert_tf.compress.distill.config import parse_layer_map
from albert_tf.compress.prune.config import (
    PruneConfig,
    StructuredPruneConfig,
    UnstructuredPruneConfig,
)
from albert_tf.errors import UserError
from albert_tf.tagging.config import (
    TagFinetuneJob,
    TaggingDataSpec,
    TokenDistillConfig,
)
from albert_tf.train.config import FinetuneConfig

# Augmentation adds unlabelled sentences, which only text classifiers distil on.
TAG_DISTILL_SKIPPED = {"seed", "augment_sources", "augment_max_texts", "augment_min_words"}


def _add_data(parser, with_splits: bool = True) -> None:
    """The data flags, derived from `TaggingDataSpec` (`source` is `--data`)."""
    add_config_flags(parser.add_argument_group("data"), TaggingDataSpec,
                     rename={"source": "data"}, options=DATA_FLAG_OPTIONS,
                     skip=() if with_splits else {"dev_file", "test_file"})


def _data_spec(args):
    return config_from_args(TaggingDataSpec, args)


def register(subparsers):
    parser = subparsers.add_parser(
        "tag", help="token classification (POS / NER): finetune, evaluate, predict, prune, "
                    "distill, export",
        description="ALBERT token classifiers: the first sub-token of each word carries its "
                    "tag; word-level predictions and metrics.")
    sub = parser.add_subparsers(dest="tag_command", metavar="ACTION", parser_class=type(parser))
    sub.required = True

    finetune = sub.add_parser("finetune", help="fine-tune a tagger; evaluate on dev and test")
    _add_data(finetune)
    add_config_flags(finetune, TagFinetuneJob, only=MODEL_FIELDS, options={
        **JOB_FLAG_OPTIONS, "model": {"type": str}})  # a dict of shapes is for recipes
    # --seed is the data's (one seed for splits, shuffling and initialisation).
    add_config_flags(finetune, FinetuneConfig, rename={"jit_compile": ("xla", "jit-compile")},
                     skip={"seed"})
    add_config_flags(finetune, TagFinetuneJob, only={"precision"})
    finetune.add_argument("--run-dir", default="runs/tag", help="output folder")
    finetune.add_argument("--resume", action="store_true", help="continue a killed run")
    finetune.set_defaults(func=run_finetune)

    evaluate = sub.add_parser("evaluate", help="token accuracy (and entity F1 for BIO tags) "
                                               "of a saved tagger on a split")
    evaluate.add_argument("model", help="saved tagger folder (run-dir/model)")
    _add_data(evaluate)
    evaluate.add_argument("--split", default="test", choices=["train", "dev", "test", "all"])
    evaluate.add_argument("--output", default=None, help="write the report as JSON here")
    evaluate.set_defaults(func=run_evaluate)

    predict = sub.add_parser("predict", help="tag raw sentences (one per line) word by word")
    predict.add_argument("model", help="saved tagger folder")
    predict.add_argument("--input", default="-", help="text file, one sentence per line "
                                                      "(default: stdin)")
    predict.add_argument("--format", default="slash", choices=["slash", "conll", "jsonl"],
                         help="word/TAG tokens, CoNLL columns, or JSON lines")
    predict.set_defaults(func=run_predict)

    prune = sub.add_parser("prune", help="structured (heads/FFN/depth) and magnitude pruning")
    prune.add_argument("model", help="saved tagger folder")
    _add_data(prune)
    add_config_flags(prune, StructuredPruneConfig)
    add_config_flags(prune, UnstructuredPruneConfig, options={
        "sparsity": {"default": None, "help": "magnitude sparsity of every prunable kernel "
                     "(without it or --m-by-n: no unstructured pruning)"},
        "block_size": {"metavar": "ROWSxCOLS"}, "m_by_n": {"metavar": "M:N"},
        "include": {"metavar": "REGEX"}, "exclude": {"metavar": "REGEX"}})
    add_config_flags(prune, PruneConfig, skip={"structured", "unstructured"},
                     base={"unstructured": UnstructuredPruneConfig()})
    prune.add_argument("--output", required=True, help="folder for the pruned tagger (new or "
                                                      "empty)")
    prune.add_argument("--overwrite", action="store_true",
                       help="replace --output when it already holds files")
    prune.set_defaults(func=run_prune)

    distill = sub.add_parser("distill", help="train a student on the teacher's per-token "
                                             "soft labels")
    distill.add_argument("--teacher", required=True, help="saved tagger folder")
    distill.add_argument("--student", required=True,
                         help="saved tagger folder (e.g. `tag prune` output) or a named "
                              "config built with the teacher's tokenizer")
    _add_data(distill)
    add_config_flags(distill, TokenDistillConfig, skip=TAG_DISTILL_SKIPPED, rename=DISTILL_RENAMED,
                     options={"layer_map": {"type": parse_layer_map, "metavar": "S:T,..."}})
    distill.add_argument("--output", required=True, help="folder for the student (new or "
                                                         "empty)")
    distill.add_argument("--overwrite", action="store_true",
                         help="replace --output when it already holds files")
    distill.add_argument("--resume", action="store_true",
                         help="continue a killed run from its last finished epoch "
                              "(checkpoints in OUTPUT.checkpoints/)")
    distill.set_defaults(func=run_distill)

    export = sub.add_parser("export", help="TFLite (per-token outputs), raw-text SavedModel "
                                           "(word tags, TF Serving layout) or edge bundle "
                                           "(word tags with export/edge/tag.py)")
    export.add_argument("model", help="saved tagger folder")
    export.add_argument("--format", default="tflite", choices=["tflite", "saved-model", "edge"])
    export.add_argument("--mode", default="float32",
                        choices=["float32", "float16", "dynamic-int8"], help="TFLite mode")
    export.add_argument("--output", required=True,
                        help=".tflite file, serving root (saved-model: "
                             "<output>/<model-name>/<version>/ with models.config) or edge "
                             "bundle folder")
    export.add_argument("--model-name", default="albert-tagger",
                        help="saved-model: served model name")
    export.add_argument("--version", type=positive_int, default=1,
                        help="saved-model: version folder")
    export.add_argument("--overwrite", action="store_true",
                        help="edge: replace an existing bundle folder")
    export.add_argument("--allow-mismatch", action="store_true",
                        help="edge: write the bundle even when the kit's parity check fails "
                             "(recorded in kit.json)")
    export.set_defaults(func=run_export)


def _load(folder):
    from albert_tf.tagging.model import load_tag_names, load_token_classifier

    tagger = load_token_classifier(folder)
    return tagger, load_tag_names(folder, tagger.num_classes)


def _summary(report: dict) -> str:
    line = (f"sentences {report['sentences']}  words {report['words']}  "
            f"token accuracy {report['token_accuracy']:.4f}")
    if "majority_tag_accuracy" in report:
        line += f"  (majority tag {report['majority_tag_accuracy']:.4f})"
    if report.get("words_without_prediction"):
        line += f"  words past the sequence length {report['words_without_prediction']}"
    if "entities" in report:
        e = report["entities"]
        line += f"\nentities: precision {e['precision']:.4f}  recall {e['recall']:.4f}  " \
                f"F1 {e['f1']:.4f}  ({e['gold_entities']} gold)"
    return line


def run_finetune(args) -> int:
    from albert_tf.train.job import run_tag_finetune_job

    job = config_from_args(TagFinetuneJob, args, data=_data_spec(args),
                           train=config_from_args(FinetuneConfig, args))
    metrics = run_tag_finetune_job(job, args.run_dir, resume=args.resume)
    print(f"model: {args.run_dir}/model")
    print("dev:  " + _summary(metrics["dev"]))
    print("test: " + _summary(metrics["test"]))
    return 0


def run_evaluate(args) -> int:
    train, dev, test = _splits_for_model(args)  # bad data fails before TensorFlow starts
    from albert_tf.json_files import write_json
    from albert_tf.text.token_pipeline import evaluate_tagger

    tagger, _ = _load(args.model)
    data = {"train": train, "dev": dev, "test": test}.get(args.split)
    if data is None:
        from albert_tf.tagging.examples import TaggedSentences

        data = TaggedSentences(train.words + dev.words + test.words,
                               train.tags + dev.tags + test.tags, train.tag_names, train.source)
    report = evaluate_tagger(tagger, data, majority_tag=train.majority_tag())
    if args.output:
        write_json(report, args.output)
    print(_summary(report))
    return 0


def _splits_for_model(args):
    from albert_tf.data.tagging_splits import load_tagging_splits
    from albert_tf.tagging.examples import TAG_NAMES_FILE

    names_file = Path(args.model) / TAG_NAMES_FILE
    names = json.loads(names_file.read_text()) if names_file.is_file() else None
    return load_tagging_splits(_data_spec(args), tag_names=names)


def run_predict(args) -> int:
    from albert_tf.deploy.tagging_graph import split_words
    from albert_tf.text.token_pipeline import predict_words

    stream = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
    with stream:
        lines = [line.strip() for line in stream if line.strip()]
    tagger, names = _load(args.model)
    words = [[w.decode("utf-8") for w in s] for s in split_words(lines).to_list()] if lines else []
    predictions = predict_words(tagger, words)
    for sentence, tags in zip(words, predictions.tag_names(names)):
        tags = [t if t is not None else "-" for t in tags]  # "-": past the sequence length
        if args.format == "slash":
            print(" ".join(f"{w}/{t}" for w, t in zip(sentence, tags)))
        elif args.format == "conll":
            print("\n".join(f"{w}\t{t}" for w, t in zip(sentence, tags)) + "\n")
        else:
            print(json.dumps({"words": sentence, "tags": tags}))
    return 0


def run_prune(args) -> int:
    from albert_tf.cli.prune import prune_config
    from albert_tf.compress.prune import prune
    from albert_tf.models.factory import check_output_folder
    from albert_tf.tagging.model import save_token_classifier

    config = prune_config(args)  # the flags mean what they mean for `albert-tf prune`
    check_output_folder(args.output, args.overwrite)  # before the work, not after
    needs_data = config.fine_tune_steps or (config.structured is not None
                                            and config.structured.importance == "taylor")
    train = _splits_for_model(args)[0] if needs_data else None
    tagger, names = _load(args.model)
    pruned, metrics = prune(tagger, config, train)
    save_token_classifier(pruned, args.output, names, overwrite=args.overwrite)
    print(f"parameters {metrics['parameters_before']} -> {metrics['parameters_after']}  "
          f"non-zero {metrics['nonzero_parameters_before']} -> "
          f"{metrics['nonzero_parameters_after']}")
    print(f"pruned tagger: {args.output}")
    return 0


def run_distill(args) -> int:
    from albert_tf.compress.distill import distill
    from albert_tf.data.splits import Splits
    from albert_tf.models.factory import check_output_folder
    from albert_tf.tagging.model import build_token_classifier, save_token_classifier

    config = config_from_args(TokenDistillConfig, args)
    check_output_folder(args.output, args.overwrite or args.resume)
    args.model = args.teacher
    train, dev, _ = _splits_for_model(args)
    teacher, names = _load(args.teacher)
    if Path(args.student).is_dir():
        student, _ = _load(args.student)
    else:
        student = build_token_classifier(args.student, teacher.num_classes,
                                         tokenizer=teacher.preprocessor.tokenizer,
                                         sequence_length=teacher.preprocessor.sequence_length)
    # Checkpoints beside the output: the student folder is replaced as a whole when saved.
    work = f"{str(args.output).rstrip('/')}.checkpoints"
    student, metrics = distill(teacher, student, Splits(train, dev, None), config, run_dir=work,
                               resume=args.resume)
    save_token_classifier(student, args.output, names,
                          overwrite=args.overwrite or args.resume)
    dev_report, parameters = metrics["dev"], metrics["parameters"]
    print(f"dev token accuracy: teacher {dev_report['teacher']['token_accuracy']:.4f}  student "
          f"{dev_report['student']['token_accuracy']:.4f} (best epoch {metrics['best_epoch']})  "
          f"parameters {parameters['teacher']['parameters']} -> "
          f"{parameters['student']['parameters']}")
    print(f"student: {args.output}")
    return 0


def run_export(args) -> int:
    from albert_tf.deploy import export_saved_model, export_tflite

    if args.format != "edge" and (args.overwrite or args.allow_mismatch):
        raise UserError("--overwrite and --allow-mismatch are for --format edge. Received: "
                        f"--format {args.format}")
    if args.format == "edge" and Path(args.output).exists() and not args.overwrite:
        raise UserError(f"{args.output} already exists: choose another folder or pass "
                        "--overwrite")  # before loading the model
    tagger, names = _load(args.model)
    if args.format == "edge":
        from albert_tf.deploy.kit_bundle import write_tagging_bundle

        kit = write_tagging_bundle(tagger, args.output, mode=args.mode, tag_names=names,
                                   overwrite=args.overwrite, allow_mismatch=args.allow_mismatch)
        parity = kit["parity"]
        print(f"wrote {kit['path']} ({kit['model_size_bytes'] / 1e6:.2f} MB model, "
              f"{kit['mode']}); parity {'passed' if parity['passed'] else 'FAILED'} on "
              f"{parity['texts']} texts: {parity['same_tag_fraction']:.4f} of {parity['words']} "
              f"words tagged by the edge kit as by the Keras model (max probability error "
              f"{parity['max_abs_error']:.1e})")
        if parity["failures"]:
            print("parity check FAILED (written because of --allow-mismatch, recorded in "
                  "kit.json): " + "; ".join(parity["failures"]))
        print(f"run it: python export/edge/tag.py {kit['path']} \"The dog barked.\"")
        return 0
    if args.format == "tflite":
        report = export_tflite(tagger, args.output, args.mode, label_names=names)
    else:
        report = export_saved_model(tagger, args.output, args.model_name, args.version,
                                    label_names=names)
    print(f"wrote {report['path']} ({report['size_bytes'] / 1e6:.2f} MB); parity: "
          f"{report['parity']['same_tag_fraction']:.4f} of words tagged as by the Keras model")
    return 0

