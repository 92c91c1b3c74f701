"""`albert-tf finetune`: fine-tune a classifier on a data source and evaluate it."""

from albert_tf.cli.common import add_data_arguments, data_spec, positive_int
from albert_tf.cli.config_flags import add_config_flags, config_from_args
from albert_tf.train.config import FinetuneConfig


def register(subparsers):
    parser = subparsers.add_parser(
        "finetune", help="fine-tune a text classifier and evaluate it on dev and test",
        description="Fine-tune a classifier (named ALBERT config, keras-hub preset, preset "
                    "folder or minilm-teacher) with AdamW, warm-up + linear decay, early "
                    "stopping and a checkpoint every epoch; writes the model, metrics.json "
                    "and TensorBoard logs to --run-dir.")
    add_data_arguments(parser)
    model = parser.add_argument_group("model")
    model.add_argument("--model", default="albert-small",
                       help="albert-tiny | albert-small | albert-base | minilm-teacher | "
                            "keras-hub preset name | preset folder (default: albert-small)")
    model.add_argument("--tokenizer", default=None,
                       help="SentencePiece .model for named configs (default: train one on "
                            "the training split)")
    model.add_argument("--vocab-size", type=positive_int, default=8000,
                       help="pieces of a newly trained tokenizer (default: 8000)")
    model.add_argument("--sequence-length", type=positive_int, default=128,
                       help="tokens per example (default: 128)")
    train = parser.add_argument_group("training")
    # --seed is the data's (one seed for splits, shuffling and initialisation).
    add_config_flags(train, FinetuneConfig, rename={"jit_compile": ("xla", "jit-compile")},
                     skip={"seed"})
    train.add_argument("--precision", default="float32",
                       choices=["float32", "mixed_bfloat16", "mixed_float16"])
    train.add_argument("--strategy", default="default",
                       choices=["default", "mirrored", "multi-worker", "tpu"])
    parser.add_argument("--run-dir", default="runs/finetune", help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run from its last checkpoint")
    parser.set_defaults(func=run)


def job_from_args(args):
    from albert_tf.train.job import FinetuneJob

    return FinetuneJob(
        data=data_spec(args), model=args.model, tokenizer=args.tokenizer,
        vocab_size=args.vocab_size, sequence_length=args.sequence_length,
        train=config_from_args(FinetuneConfig, args),
        precision=args.precision, strategy=args.strategy)


def run(args) -> int:
    from albert_tf.train.job import format_result_table, run_finetune_job

    metrics = run_finetune_job(job_from_args(args), args.run_dir, resume=args.resume)
    print(format_result_table(metrics))
    print(f"model: {args.run_dir}/model   metrics: {args.run_dir}/metrics.json")
    return 0
