"""`albert-tf distill`: distil a fine-tuned teacher into a smaller ALBERT student."""

from albert_tf.cli.common import (
    add_data_arguments,
    add_optimizer_arguments,
    data_spec,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    unit_interval,
)


def register(subparsers):
    parser = subparsers.add_parser(
        "distill", help="distil a teacher classifier into a smaller ALBERT student",
        description="Distil a fine-tuned teacher (a classifier folder from `albert-tf "
                    "finetune`) into an ALBERT student made from scratch, by truncating an "
                    "ALBERT teacher, or by albertizing a BERT teacher. Teacher outputs are "
                    "computed once and cached in --run-dir; a checkpoint is written every "
                    "epoch (--resume continues); the student, metrics.json and the cache go "
                    "to --run-dir.")
    add_data_arguments(parser)
    models = parser.add_argument_group("teacher and student")
    models.add_argument("--teacher", required=True,
                        help="fine-tuned teacher: a classifier folder (task.json), or a preset "
                             "name / minilm-teacher (then its head is untrained)")
    models.add_argument("--init", default="albertize",
                        choices=["scratch", "truncate", "albertize"],
                        help="student initialisation (default: albertize, for BERT teachers)")
    models.add_argument("--student-config", default="albert-tiny",
                        help="scratch: named ALBERT config (albert-tiny, albert-small, "
                             "albert-base; default: albert-tiny)")
    models.add_argument("--student-tokenizer", default=None,
                        help="scratch: SentencePiece .model of the student's own (only soft "
                             "labels can then transfer); default: the teacher's tokenizer")
    models.add_argument("--num-layers", type=positive_int, default=None,
                        help="truncate / albertize: encoder calls of the student")
    models.add_argument("--intermediate-dim", type=positive_int, default=None,
                        help="truncate: narrower feed-forward width")
    models.add_argument("--embedding-dim", type=positive_int, default=128,
                        help="albertize: factorised embedding width E (default: 128)")
    models.add_argument("--num-groups", type=positive_int, default=1,
                        help="albertize: shared layer groups G (default: 1)")
    models.add_argument("--merge", default="average", choices=["average", "select"],
                        help="albertize: merge a group's layers by weight average, or keep the "
                             "layer that reproduces the group best (default: average)")
    models.add_argument("--sequence-length", type=positive_int, default=None,
                        help="student tokens per example (default: the teacher's)")
    distil = parser.add_argument_group("distillation")
    distil.add_argument("--temperature", type=positive_float, default=2.0,
                        help="softening temperature T (default: 2)")
    distil.add_argument("--alpha", type=unit_interval, default=0.8,
                        help="weight of the soft-label loss; 1-alpha weighs the hard labels "
                             "(default: 0.8)")
    distil.add_argument("--hidden-weight", type=non_negative_float, default=0.0,
                        help="weight of hidden-state transfer (needs a shared tokenizer; "
                             "default: 0)")
    distil.add_argument("--attention-weight", type=non_negative_float, default=0.0,
                        help="weight of attention transfer (shared tokenizer, equal heads; "
                             "default: 0)")
    distil.add_argument("--layer-map", default="",
                        help="student:teacher hidden-state pairs, e.g. 1:2,2:4,3:6 "
                             "(0 = embeddings; default: uniform)")
    # Literal names (as config.AUGMENT_SOURCES): importing the distill package would load
    # TensorFlow just to print --help. DistillConfig validates them again.
    distil.add_argument("--augment", action="append", default=[],
                        choices=["brown-corpus", "movie-snippets", "product-snippets",
                                 "editorial-snippets", "sentiment-tweets", "training-split"],
                        help="add unlabelled texts of this source, labelled by the teacher "
                             "(training-split: the rest of --data's training split beyond "
                             "--train-limit, labels not used; dev and test texts are always "
                             "left out)")
    distil.add_argument("--augment-max", type=non_negative_int, default=20000,
                        help="at most this many augmentation texts (default: 20000)")
    distil.add_argument("--share-groups", type=non_negative_int, default=0,
                        help="anneal the student's distinct layers (albertize with --num-groups "
                             "= --num-layers) into this many shared layers over --epochs, then "
                             "tie them (0: off)")
    distil.add_argument("--share-tie-epochs", type=non_negative_int, default=1,
                        help="with --share-groups: epochs distilled after tying")
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int, default=3)
    add_optimizer_arguments(train, batch_size=32, learning_rate=5e-5, warmup_fraction=0.1)
    train.add_argument("--patience", type=non_negative_int, default=0,
                       help="early-stopping patience on dev accuracy; 0 disables (default)")
    train.add_argument("--xla", action="store_true", help="compile the train step with XLA")
    parser.add_argument("--run-dir", default="runs/distill", help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run from its last finished epoch")
    parser.set_defaults(func=run)


def _load_teacher(name: str, label_names: list, sequence_length):
    import logging
    from pathlib import Path

    from albert_tf.errors import UserError
    from albert_tf.models import build_classifier, load_classifier
    from albert_tf.models.factory import LABEL_NAMES_FILE, load_label_names

    folder = Path(name)
    if (folder / "task.json").is_file():
        teacher = load_classifier(folder)
        if (folder / LABEL_NAMES_FILE).is_file():
            saved = load_label_names(folder, teacher.num_classes)
            if saved != label_names:
                raise UserError(f"the teacher was trained on labels {saved} but the data has "
                                f"{label_names}: distil on the teacher's task")
        return teacher
    logging.getLogger(__name__).warning(
        "%s is not a fine-tuned classifier folder: its classification head is untrained, so "
        "the student learns from an untrained teacher (fine-tune it first with `albert-tf "
        "finetune --model %s`)", name, name)
    return build_classifier(name, num_classes=len(label_names),
                            sequence_length=sequence_length or 128)


def run(args) -> int:
    import keras

    from albert_tf.compress.distill import DistillConfig, StudentInit, build_student, distill, parse_layer_map
    from albert_tf.compress.distill.augment import requested_unlabelled_texts
    from albert_tf.data import Splits
    from albert_tf.train.job import load_splits

    config = DistillConfig(
        temperature=args.temperature, alpha=args.alpha, hidden_weight=args.hidden_weight,
        attention_weight=args.attention_weight, layer_map=parse_layer_map(args.layer_map),
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        weight_decay=args.weight_decay, warmup_fraction=args.warmup_fraction,
        clip_norm=args.clip_norm, patience=args.patience, jit_compile=args.xla,
        augment_sources=tuple(dict.fromkeys(args.augment)), augment_max_texts=args.augment_max,
        share_groups=args.share_groups, share_tie_epochs=args.share_tie_epochs, seed=args.seed)
    init = StudentInit(
        method=args.init, shape=args.student_config, tokenizer=args.student_tokenizer,
        num_layers=args.num_layers, intermediate_dim=args.intermediate_dim,
        embedding_dim=args.embedding_dim, num_groups=args.num_groups, merge=args.merge,
        sequence_length=args.sequence_length)
    # Seed before any tokenizer exists (seeding clears TensorFlow's kernel cache).
    keras.utils.set_random_seed(args.seed)
    spec = data_spec(args)
    train, dev, test = load_splits(spec)
    teacher = _load_teacher(args.teacher, list(train.label_names), args.sequence_length)
    student = build_student(teacher, init, texts=train.texts)
    student, metrics = distill(teacher, student, Splits(train, dev, test), config,
                               run_dir=args.run_dir, resume=args.resume,
                               unlabelled_texts=requested_unlabelled_texts(config, spec))
    print(format_summary(metrics))
    print(f"student: {args.run_dir}/student   metrics: {args.run_dir}/metrics.json")
    return 0


def format_summary(metrics: dict) -> str:
    """A plain-text table of a distillation run's results."""
    teacher, student = metrics["parameters"]["teacher"], metrics["parameters"]["student"]
    rows = [
        ("parameters", f"teacher {teacher['parameters']:,} "
                       f"({teacher['parameters_without_token_embedding']:,} without token "
                       f"embeddings), student {student['parameters']:,} "
                       f"({student['parameters_without_token_embedding']:,})"),
        ("examples", f"train {metrics['train_examples']}, augmentation "
                     f"{metrics['augmentation_examples']}"),
        ("epochs", f"{metrics['epochs_done']} (best {metrics['best_epoch']})"),
        ("teacher cache", metrics["teacher_cache"]),
    ]
    for split in ("dev", "test"):
        if split in metrics:
            part = metrics[split]
            rows.append((f"{split} accuracy", f"student {part['student']['accuracy']:.4f}, "
                                              f"teacher {part['teacher']['accuracy']:.4f}, "
                                              f"agreement {part['agreement']:.4f}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
