"""`albert-tf distill`: distil a fine-tuned teacher into a smaller ALBERT student."""

from albert_tf.cli.common import add_data_arguments, data_spec, positive_int
from albert_tf.cli.config_flags import add_config_flags, config_from_args
from albert_tf.compress.distill.config import DistillConfig, parse_layer_map

DISTILLATION_FIELDS = {
    "temperature", "alpha", "hidden_weight", "attention_weight", "layer_map",
    "augment_sources", "augment_max_texts", "augment_min_words", "share_groups",
    "share_tie_epochs", "cache_dtype"}
# Older, shorter flag names first; the field's own name is an alias.
RENAMED = {"jit_compile": ("xla", "jit-compile"), "augment_sources": ("augment", "augment-sources"),
           "augment_max_texts": ("augment-max", "augment-max-texts")}


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
    add_config_flags(distil, DistillConfig, only=DISTILLATION_FIELDS, rename=RENAMED,
                     options={"layer_map": {"type": parse_layer_map, "metavar": "S:T,..."},
                              "augment_sources": {"metavar": "SOURCE"}})
    train = parser.add_argument_group("training")
    # --seed is the data's (one seed for splits, shuffling and initialisation).
    add_config_flags(train, DistillConfig, skip={*DISTILLATION_FIELDS, "seed"}, rename=RENAMED)
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

    from albert_tf.compress.distill import StudentInit, build_student, distill
    from albert_tf.compress.distill.augment import requested_unlabelled_texts
    from albert_tf.data import Splits
    from albert_tf.data.spec import load_splits
    from albert_tf.train.strategy import make_strategy

    config = config_from_args(DistillConfig, args)
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
    with make_strategy(config.strategy).scope():  # the student's weights are the strategy's
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
