"""`albert-tf pretrain`: pre-train ALBERT (masked LM + sentence-order prediction) on a corpus."""

from albert_tf.cli.config_flags import add_config_flags, config_from_args
from albert_tf.pretrain.config import PretrainConfig, PretrainJob


def register(subparsers):
    parser = subparsers.add_parser(
        "pretrain", help="pre-train ALBERT (masked LM + sentence-order prediction) on text",
        description="Pre-train an ALBERT model with its own objectives, masked language "
                    "modelling (dynamic masking) and sentence-order prediction, on unlabelled "
                    "documents; a checkpoint every --checkpoint-every steps, held-out MLM and "
                    "SOP accuracy in metrics.json, and a keras-hub preset folder in "
                    "RUN_DIR/model that every command takes as --model.")
    add_config_flags(parser, PretrainJob, skip={"train"}, options={
        "corpus": {"nargs": "+", "required": True, "metavar": "SOURCE", "help": (
            "brown-corpus | peoples-daily | a text-classification source (its training split "
            "only, e.g. rotten-tomatoes, movie-snippets, tfds:NAME) | a .txt file (documents "
            "between blank lines) | a .jsonl file (a \"text\" document per row)")},
        "leave_out": {"nargs": "+", "metavar": "SOURCE"}})
    add_config_flags(parser.add_argument_group("training"), PretrainConfig)
    parser.add_argument("--run-dir", required=True, help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run (or a finished one, with more --steps)")
    parser.set_defaults(func=run)


def job_from_args(args):
    return config_from_args(PretrainJob, args, train=config_from_args(PretrainConfig, args))


def run(args) -> int:
    from albert_tf.pretrain.job import run_pretrain_job

    metrics = run_pretrain_job(job_from_args(args), args.run_dir, resume=args.resume)
    corpus = metrics["corpus"]
    print(f"corpus: {corpus['documents']:,} documents, {corpus['train_examples']:,} training "
          f"examples ({corpus['train_segment_pairs']:,} segment pairs), "
          f"{corpus['train_tokens']:,} tokens")
    for note in corpus["sources"]:
        print(f"  {note}")
    print(f"steps: {metrics['steps']:,} in {metrics['train_seconds_all']:.0f} s")
    print(f"held-out MLM accuracy {metrics['held_out_mlm_accuracy']}, "
          f"SOP accuracy {metrics['held_out_sop_accuracy']}")
    print(f"model: {args.run_dir}/model   metrics: {args.run_dir}/metrics.json")
    return 0
