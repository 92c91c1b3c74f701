"""Is pre-training worth it? A pre-trained model against the same configuration from scratch,
fine-tuned on a task with the same learning-rate grid, epochs and precision.

`--task classification` fine-tunes on a text-classification source (`albert-tf finetune`,
test accuracy); `--task tagging` on a tagged corpus (`albert-tf tag finetune`, test token
accuracy; Brown POS by default, with `--train-limit` sentences where the CPU budget needs it).

For each initialisation (`pretrained`: the `--pretrained` preset folder; `scratch`: the named
`--config`, its tokenizer trained on the training split) and each learning rate, one
`albert-tf finetune` run goes to `RUNS/<init>-<rate>/`; runs with a metrics.json are not run
again, so a long comparison can be continued. The table picks each initialisation's run with
the best dev accuracy and reports its test accuracy on the whole test split, beside the
majority class and TF-IDF + logistic regression trained on the same training split.

Example (README, "Pre-training"):
    albert-tf pretrain --corpus rotten-tomatoes movie-snippets product-snippets \\
        editorial-snippets sentiment-tweets brown-corpus --model albert-small \\
        --sequence-length 64 --batch-size 32 --steps 4400 --checkpoint-every 400 \\
        --learning-rate 3e-4 --precision mixed_bfloat16 --run-dir runs/pretrain
    python benchmarks/pretrain_vs_scratch.py --pretrained runs/pretrain/model --runs runs/pvs
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path


def finetune_args(args, init: str, rate: str) -> list[str]:
    model = args.pretrained if init == "pretrained" else args.config
    command = ["finetune"] if args.task == "classification" else ["tag", "finetune"]
    extra = ["--precision", args.precision]
    if args.train_limit:
        extra += ["--train-limit", str(args.train_limit)]
    return [sys.executable, "-m", "albert_tf.cli", *command, "--data", args.data,
            "--model", model, "--vocab-size", str(args.vocab_size),
            "--sequence-length", str(args.sequence_length), "--epochs", str(args.epochs),
            "--batch-size", str(args.batch_size), "--learning-rate", rate, "--patience", "0",
            *extra, "--run-dir", str(args.runs / f"{init}-{rate}")]


def scores(args, metrics: dict) -> tuple[float, float]:
    """(dev, test) accuracy: per example, or per word for tagging."""
    key = "accuracy" if args.task == "classification" else "token_accuracy"
    return metrics["dev"][key], metrics["test"][key]


def baselines(args):
    """The classical baselines trained on the same training split, scored on the test split."""
    if args.task == "classification":
        from albert_tf.bench.baselines import classification_baselines
        from albert_tf.data.spec import DataSpec, load_splits

        train, _, test = load_splits(DataSpec(source=args.data))
        return classification_baselines(train, test), len(test.texts)
    from albert_tf.bench.baselines import tagging_baselines
    from albert_tf.tagging import TaggingDataSpec, load_tagging_splits

    train, _, test = load_tagging_splits(TaggingDataSpec(source=args.data,
                                                         train_limit=args.train_limit))
    return tagging_baselines(train, test), sum(len(w) for w in test.words)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pretrained", required=True, help="pre-trained preset folder")
    parser.add_argument("--config", default="albert-small", help="the same configuration, new")
    parser.add_argument("--task", default="classification", choices=["classification", "tagging"])
    parser.add_argument("--data", default=None,
                        help="default: rotten-tomatoes (classification), brown-corpus (tagging)")
    parser.add_argument("--train-limit", type=int, default=None,
                        help="training examples (sentences) for every run and baseline")
    parser.add_argument("--runs", type=Path, required=True, help="folder for the runs")
    parser.add_argument("--learning-rates", nargs="+", default=["1e-4", "3e-4"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=48)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--precision", default="mixed_bfloat16")
    args = parser.parse_args()
    args.data = args.data or ("rotten-tomatoes" if args.task == "classification" else
                              "brown-corpus")

    rows = {}
    for rate in args.learning_rates:  # interleaved, so a stopped run leaves matched pairs
        for init in ("pretrained", "scratch"):
            metrics_path = args.runs / f"{init}-{rate}" / "metrics.json"
            if not metrics_path.is_file():
                print(f"running {init} at learning rate {rate}", flush=True)
                subprocess.run(finetune_args(args, init, rate), check=True)
            rows[(init, rate)] = json.loads(metrics_path.read_text())

    lines = ["| model | learning rate | best epoch | dev accuracy | test accuracy |",
             "|---|---|---|---|---|"]
    best = {}
    for (init, rate), metrics in rows.items():
        dev, acc = scores(args, metrics)
        if init not in best or dev > best[init][0]:
            best[init] = (dev, acc, rate)
        lines.append(f"| {args.config} {init} | {rate} | {metrics['training']['best_epoch']} "
                     f"| {dev:.4f} | {acc:.4f} |")
    results, scored = baselines(args)
    for result in results:
        lines.append(f"| {result.name} (same training split) | | | | {result.accuracy:.4f} |")
    lines.append("")
    for init, (_, acc, rate) in best.items():
        lines.append(f"best {init} (by dev): test accuracy {acc:.4f} at learning rate {rate}")
    if {"pretrained", "scratch"} <= set(best):
        gap = 100 * (best["pretrained"][1] - best["scratch"][1])
        unit = "examples" if args.task == "classification" else "words"
        lines.append(f"pre-trained minus scratch: {gap:+.1f} points (test, {scored} {unit})")
    table = "\n".join(lines)
    (args.runs / "table.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
