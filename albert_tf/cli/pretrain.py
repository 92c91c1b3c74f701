"""`albert-tf pretrain`: pre-train ALBERT (masked LM + sentence-order prediction) on a corpus."""

from albert_tf.cli.common import (
    add_optimizer_arguments,
    fraction,
    non_negative_int,
    positive_int,
)


def register(subparsers):
    parser = subparsers.add_parser(
        "pretrain", help="pre-train ALBERT (masked LM + sentence-order prediction) on text",
        description="Pre-train an ALBERT model with its own objectives, masked language "
                    "modelling (dynamic masking) and sentence-order prediction, on unlabelled "
                    "documents; a checkpoint every --checkpoint-every steps, held-out MLM and "
                    "SOP accuracy in metrics.json, and a keras-hub preset folder in "
                    "RUN_DIR/model that every command takes as --model.")
    parser.add_argument("--corpus", nargs="+", required=True, metavar="SOURCE",
                        help="brown-corpus | peoples-daily | a text-classification source "
                             "(its training split only, e.g. rotten-tomatoes, movie-snippets, "
                             "tfds:NAME) | a .txt file (documents between blank lines) | a "
                             ".jsonl file (a \"text\" document per row)")
    parser.add_argument("--corpus-seed", type=non_negative_int, default=0,
                        help="seed of the dev/test splits left out of evaluated sources "
                             "(default: 0, the seed fine-tuning uses)")
    parser.add_argument("--leave-out", nargs="+", default=[], metavar="SOURCE",
                        help="classification sources the model will be evaluated on: their "
                             "dev and test texts are removed from every corpus source")
    parser.add_argument("--model", default="albert-small",
                        help="albert-tiny | albert-small | albert-base (new, tokenizer trained "
                             "on the corpus) | keras-hub ALBERT preset name or folder "
                             "(continued pre-training) (default: albert-small)")
    parser.add_argument("--vocab-size", type=positive_int, default=8000,
                        help="pieces of the tokenizer trained for a new model (default: 8000)")
    parser.add_argument("--sequence-length", type=positive_int, default=128,
                        help="tokens per example (default: 128)")
    parser.add_argument("--held-out-fraction", type=fraction, default=0.02,
                        help="share of documents scored, never trained on (default: 0.02)")
    train = parser.add_argument_group("training")
    train.add_argument("--steps", type=positive_int, default=10_000)
    add_optimizer_arguments(train, batch_size=64, learning_rate=5e-4, warmup_fraction=0.05)
    train.add_argument("--checkpoint-every", type=positive_int, default=500,
                       help="steps between checkpoints and held-out scores (default: 500)")
    train.add_argument("--mask-rate", type=fraction, default=0.15)
    train.add_argument("--seed", type=non_negative_int, default=0)
    train.add_argument("--precision", default="float32",
                       choices=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--run-dir", required=True, help="output folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run (or a finished one, with more --steps)")
    parser.set_defaults(func=run)


def job_from_args(args):
    from albert_tf.pretrain.job import PretrainConfig, PretrainJob

    return PretrainJob(
        corpus=list(args.corpus), model=args.model, vocab_size=args.vocab_size,
        sequence_length=args.sequence_length, held_out_fraction=args.held_out_fraction,
        corpus_seed=args.corpus_seed, leave_out=list(args.leave_out),
        train=PretrainConfig(
            steps=args.steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
            weight_decay=args.weight_decay, warmup_fraction=args.warmup_fraction,
            clip_norm=args.clip_norm, checkpoint_every=args.checkpoint_every,
            mask_rate=args.mask_rate, seed=args.seed),
        precision=args.precision)


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
