"""`albert-tf finetune`: fine-tune a classifier on a data source and evaluate it."""

from albert_tf.cli.common import add_data_arguments, data_spec, positive_int
from albert_tf.cli.config_flags import add_config_flags, config_from_args
from albert_tf.train.config import FinetuneConfig
from albert_tf.train.job_config import FinetuneJob

# The job's own fields (its `data` and `train` have flags of theirs).
MODEL_FIELDS = {"model", "tokenizer", "vocab_size", "sequence_length"}
JOB_FLAG_OPTIONS = {"vocab_size": {"type": positive_int},
                    "sequence_length": {"type": positive_int}}


def register(subparsers):
    parser = subparsers.add_parser(
        "finetune", help="fine-tune a text classifier and evaluate it on dev and test",
        description="Fine-tune a classifier (named ALBERT config, keras-hub preset, preset "
                    "folder or minilm-teacher) with AdamW, warm-up + linear decay, early "
                    "stopping and a checkpoint every epoch; writes the model, metrics.json "
                    "and TensorBoard logs to --run-dir.")
    add_data_arguments(parser)
    model = parser.add_argument_group("model")
    add_config_flags(model, FinetuneJob, only=MODEL_FIELDS, options=JOB_FLAG_OPTIONS)
    train = parser.add_argument_group("training")
    # --seed is the data's (one seed for splits, shuffling and initialisation).
    add_config_flags(train, FinetuneConfig, rename={"jit_compile": ("xla", "jit-compile")},
                     skip={"seed"})
    add_config_flags(train, FinetuneJob, only={"precision", "strategy"})
    parser.add_argument("--run-dir", default="runs/finetune", help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run from its last checkpoint")
    parser.set_defaults(func=run)


def job_from_args(args):
    return config_from_args(FinetuneJob, args, data=data_spec(args),
                            train=config_from_args(FinetuneConfig, args))


def run(args) -> int:
    from albert_tf.train.job import format_result_table, run_finetune_job

    metrics = run_finetune_job(job_from_args(args), args.run_dir, resume=args.resume)
    print(format_result_table(metrics))
    print(f"model: {args.run_dir}/model   metrics: {args.run_dir}/metrics.json")
    return 0
