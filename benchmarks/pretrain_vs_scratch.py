"""Is pre-training worth it? A pre-trained model against the same configuration from scratch,
fine-tuned on a classification source with the same learning-rate grid, epochs and precision.

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
    return [sys.executable, "-m", "albert_tf.cli", "finetune", "--data", args.data,
            "--model", model, "--vocab-size", str(args.vocab_size),
            "--sequence-length", str(args.sequence_length), "--epochs", str(args.epochs),
            "--batch-size", str(args.batch_size), "--learning-rate", rate, "--patience", "0",
            "--precision", args.precision, "--run-dir", str(args.runs / f"{init}-{rate}")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pretrained", required=True, help="pre-trained preset folder")
    parser.add_argument("--config", default="albert-small", help="the same configuration, new")
    parser.add_argument("--data", default="rotten-tomatoes")
    parser.add_argument("--runs", type=Path, required=True, help="folder for the runs")
    parser.add_argument("--learning-rates", nargs="+", default=["1e-4", "3e-4"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--precision", default="mixed_bfloat16")
    args = parser.parse_args()

    rows = {}
    for rate in args.learning_rates:  # interleaved, so a stopped run leaves matched pairs
        for init in ("pretrained", "scratch"):
            metrics_path = args.runs / f"{init}-{rate}" / "metrics.json"
            if not metrics_path.is_file():
                print(f"running {init} at learning rate {rate}", flush=True)
                subprocess.run(finetune_args(args, init, rate), check=True)
            rows[(init, rate)] = json.loads(metrics_path.read_text())

    from albert_tf.bench.baselines import classification_baselines
    from albert_tf.train.job import DataSpec, load_splits

    train, _, test = load_splits(DataSpec(source=args.data))
    lines = ["| model | learning rate | best epoch | dev accuracy | test accuracy |",
             "|---|---|---|---|---|"]
    best = {}
    for (init, rate), metrics in rows.items():
        dev, acc = metrics["dev"]["accuracy"], metrics["test"]["accuracy"]
        if init not in best or dev > best[init][0]:
            best[init] = (dev, acc, rate)
        lines.append(f"| {args.config} {init} | {rate} | {metrics['training']['best_epoch']} "
                     f"| {dev:.4f} | {acc:.4f} |")
    for result in classification_baselines(train, test):
        lines.append(f"| {result.name} (same training split) | | | | {result.accuracy:.4f} |")
    lines.append("")
    for init, (dev, acc, rate) in best.items():
        lines.append(f"best {init} (by dev): test accuracy {acc:.4f} at learning rate {rate}")
    if {"pretrained", "scratch"} <= set(best):
        gap = 100 * (best["pretrained"][1] - best["scratch"][1])
        lines.append(f"pre-trained minus scratch: {gap:+.1f} points (test, {len(test.texts)} "
                     "examples)")
    table = "\n".join(lines)
    (args.runs / "table.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
