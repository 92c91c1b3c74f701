"""Pruning on rotten-tomatoes: accuracy against sparsity, and a structurally pruned ALBERT.

Measures, on a held-out test subset:

1. unstructured magnitude pruning at each `--sparsities` value: test accuracy one-shot (masks at
   the target, no training) and after `--recovery-steps` fine-tuning steps with the polynomial
   schedule, and the gzip-compressed size of the saved weights (`model.weights.h5`);
2. structured pruning (`--heads-fraction`, `--ffn-fraction`, `--depth`): parameters, batch-1
   latency of the float32 TFLite files of the parent and the pruned model (ai-edge-litert,
   1 thread, A/B interleaved, medians) and test accuracy, one-shot and after recovery by
   distillation from the unpruned parent (`--recovery-epochs`), the usual pruning recipe;
   `--augment-in-domain N` adds up to N texts of the rest of rotten-tomatoes' training split,
   without their labels (the `training-split` augmentation source), that the parent labels for
   the recovery (the pruned model learns the
   parent's function from more inputs; no test or dev text is ever used).

The model pruned is an albert-small-size ALBERT (6 layers, hidden 384, 12 heads, E=128):
`--model` if it is an ALBERT classifier folder; the albertized `--model` (E=128, `--groups`
groups, no further training) if it is a fine-tuned BERT such as the MiniLM teacher from
`albert-tf finetune --model minilm-teacher`; by default the albertized pretrained MiniLM.
An albertized baseline is fine-tuned here for `--baseline-epochs` (E=128 loses part of the
embedding, which one epoch wins back). ALBERT weights trained from scratch stay at the
majority class on CPU budgets (see DESIGN.md), so pruning them would measure nothing.

Writes `results.json` and `results.md` to `--output`; prints the tables.

Example:
    albert-tf finetune --model minilm-teacher --train-limit 4000 --sequence-length 64 \\
        --epochs 2 --run-dir runs/minilm
    python benchmarks/prune_rotten_tomatoes.py --model runs/minilm/model --output runs/bench_prune
"""

import argparse
import gzip
import json
import logging
import os
import shutil
import time
from pathlib import Path

logger = logging.getLogger("benchmarks.prune_rotten_tomatoes")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None,
                        help="fine-tuned classifier folder: ALBERT (used as is) or BERT "
                             "(albertized); default: albertize the pretrained MiniLM and "
                             "fine-tune it here")
    parser.add_argument("--output", default="runs/bench_prune", help="results folder")
    parser.add_argument("--train-limit", type=int, default=2000)
    parser.add_argument("--test-limit", type=int, default=500)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--groups", type=int, default=6,
                        help="shared layer groups of the albertized baseline (1 = albert-small)")
    parser.add_argument("--baseline-epochs", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=5e-5,
                        help="baseline fine-tuning learning rate")
    parser.add_argument("--sparsities", default="0,0.5,0.7,0.9")
    parser.add_argument("--recovery-steps", type=int, default=40,
                        help="fine-tuning steps after each pruning")
    parser.add_argument("--recovery-learning-rate", type=float, default=3e-5)
    parser.add_argument("--recovery-epochs", type=int, default=2,
                        help="structured: distillation epochs from the unpruned parent")
    parser.add_argument("--distill-learning-rate", type=float, default=1e-4)
    parser.add_argument("--augment-in-domain", type=int, default=0,
                        help="structured recovery: up to this many unlabelled texts from the "
                             "rest of the training split, labelled by the parent")
    parser.add_argument("--heads-fraction", type=float, default=0.25)
    parser.add_argument("--ffn-fraction", type=float, default=0.5)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--importance", choices=["magnitude", "taylor"], default="taylor")
    parser.add_argument("--latency-runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def gzip_size(path: Path) -> int:
    """Bytes of `path` after gzip -9 (what a sparse model costs to ship)."""
    with open(path, "rb") as source:
        return len(gzip.compress(source.read(), compresslevel=9))


def tflite_latencies(models: dict, folder: Path, runs: int) -> dict:
    """Batch-1 latency of each model's float32 TFLite file (1 thread), A/B interleaved.

    The files are timed in turns, one call each per round, so a noisy machine slows every
    model alike; medians and 90th percentiles over `runs` rounds.
    """
    import numpy as np

    from albert_tf.deploy import TFLiteRunner, export_tflite
    from albert_tf.deploy.classifier_graph import pack_texts

    runners, samples, sizes = {}, {}, {}
    for name, model in models.items():
        path = folder / f"{name}-float32.tflite"
        export_tflite(model, path, "float32", parity=False)
        runners[name] = TFLiteRunner(path, num_threads=1)
        samples[name] = pack_texts(model, ["a film that is worth the ticket, mostly."])
        sizes[name] = path.stat().st_size
        for _ in range(3):
            runners[name].predict_packed(samples[name])
    times = {name: [] for name in models}
    for _ in range(runs):
        for name, runner in runners.items():
            started = time.perf_counter()
            runner.predict_packed(samples[name])
            times[name].append(1000 * (time.perf_counter() - started))
    return {name: {"median_ms": round(float(np.median(t)), 2),
                   "p90_ms": round(float(np.percentile(t, 90)), 2),
                   "tflite_bytes": sizes[name]} for name, t in times.items()}


def build_baseline(args, train, dev, output: Path) -> Path:
    """The ALBERT classifier to prune, saved under `output/baseline`; returns its folder.

    An ALBERT `--model` is used as it is. A BERT `--model` (e.g. the MiniLM teacher fine-tuned
    by `albert-tf finetune`) is albertized (E=128, `--groups` groups) without further training.
    With no `--model`, the pretrained MiniLM is albertized and fine-tuned here.
    """
    import keras_hub

    from albert_tf.compress.distill.albertize import albertize_student
    from albert_tf.models import build_classifier, load_classifier, save_classifier
    from albert_tf.text import make_dataset
    from albert_tf.train.finetune import FinetuneConfig, finetune

    folder = output / "baseline"
    recipe = {"model": args.model, "groups": args.groups, "train_limit": args.train_limit,
              "baseline_epochs": args.baseline_epochs, "sequence_length": args.sequence_length}
    recipe_file = output / "baseline_recipe.json"
    if (folder / "task.json").is_file() and recipe_file.is_file() and json.loads(
            recipe_file.read_text()) == recipe:
        logger.info("reusing baseline %s", folder)
        return folder
    if args.model:
        source = load_classifier(args.model)
        if isinstance(source.backbone, keras_hub.models.AlbertBackbone):
            return Path(args.model)
        logger.info("albertizing the fine-tuned %s (E=128, %d groups)", args.model, args.groups)
    else:
        source = build_classifier("minilm-teacher", num_classes=len(train.label_names),
                                  sequence_length=args.sequence_length)
    student = albertize_student(source, embedding_dim=128, num_groups=args.groups,
                                sequence_length=args.sequence_length)
    if args.baseline_epochs > 0:
        config = FinetuneConfig(epochs=args.baseline_epochs, batch_size=args.batch_size,
                                learning_rate=args.learning_rate, patience=0, seed=args.seed)
        run_dir = output / "baseline_run"
        shutil.rmtree(run_dir, ignore_errors=True)
        train_ds = make_dataset(train, student.preprocessor, args.batch_size, shuffle=True,
                                seed=args.seed)
        dev_ds = make_dataset(dev, student.preprocessor, args.batch_size)
        finetune(student, train_ds, dev_ds, config, run_dir, train_examples=len(train.texts))
    save_classifier(student, folder, train.label_names)
    recipe_file.write_text(json.dumps(recipe))
    return folder


def markdown(results: dict) -> str:
    lines = ["| sparsity | accuracy one-shot | accuracy after recovery | weights.h5 | gzip |",
             "|---|---|---|---|---|"]
    for row in results["unstructured"]:
        lines.append(f"| {row['sparsity']:.0%} | {row['accuracy_one_shot']:.4f} | "
                     f"{row['accuracy_recovered']:.4f} | {row['weights_bytes'] / 1e6:.1f} MB | "
                     f"{row['weights_gzip_bytes'] / 1e6:.1f} MB |")
    s = results["structured"]
    lines += ["", "| model | parameters | TFLite float32 latency median / p90 (batch 1, 1 thread) "
              "| accuracy |", "|---|---|---|---|",
              f"| baseline | {s['parameters_before']:,} | {s['latency_before']['median_ms']} / "
              f"{s['latency_before']['p90_ms']} ms | {results['baseline_accuracy']:.4f} |",
              f"| pruned one-shot | {s['parameters_after']:,} | "
              f"{s['latency_after']['median_ms']} / {s['latency_after']['p90_ms']} ms "
              f"({s['speedup']}× faster) | {s['accuracy_one_shot']:.4f} |",
              f"| pruned + {results['settings']['recovery_epochs']} epochs distillation | "
              f"{s['parameters_after']:,} | same | {s['accuracy_recovered']:.4f} |"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    import keras

    from albert_tf.classification_metrics import evaluate_classifier
    from albert_tf.compress.distill import DistillConfig, distill
    from albert_tf.compress.distill.augment import training_split_texts
    from albert_tf.compress.prune import (
        PruneConfig,
        StructuredPruneConfig,
        UnstructuredPruneConfig,
        prune,
        structured_prune,
    )
    from albert_tf.data import Splits
    from albert_tf.data.spec import DataSpec, load_splits
    from albert_tf.json_files import write_json
    from albert_tf.models import load_classifier, save_classifier
    from albert_tf.text import make_dataset

    keras.utils.set_random_seed(args.seed)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    spec = DataSpec(source="rotten-tomatoes", seed=args.seed, train_limit=args.train_limit,
                    dev_limit=200, test_limit=args.test_limit)
    train, dev, test = load_splits(spec)
    splits = Splits(train, dev, test)
    base_folder = build_baseline(args, train, dev, output)
    base = load_classifier(base_folder)
    train_ds = make_dataset(train, base.preprocessor, args.batch_size, shuffle=True,
                            seed=args.seed)
    test_ds = make_dataset(test, base.preprocessor, args.batch_size)
    labels = test.labels

    def accuracy(model) -> float:
        return evaluate_classifier(model, test_ds, labels)["accuracy"]

    results = {"settings": vars(args), "baseline": str(base_folder),
               "examples": {"train": len(train.texts), "test": len(test.texts)},
               "baseline_accuracy": accuracy(base), "unstructured": []}
    logger.info("baseline test accuracy %.4f", results["baseline_accuracy"])
    # Finished rows are written as they come; a re-run with the same settings keeps them.
    partial_file = output / "partial.json"
    done = {}
    if partial_file.is_file():
        partial = json.loads(partial_file.read_text())
        same = [k for k in results["settings"] if k != "sparsities"]
        if all(partial["settings"].get(k) == results["settings"][k] for k in same):
            done = {row["sparsity"]: row for row in partial["unstructured"]}

    for sparsity in (float(s) for s in args.sparsities.split(",") if s.strip()):
        if sparsity in done:
            logger.info("unstructured %.0f%%: finished earlier, kept", 100 * sparsity)
            results["unstructured"].append(done[sparsity])
            continue
        one_shot, _ = prune(load_classifier(base_folder), PruneConfig(
            unstructured=UnstructuredPruneConfig(sparsity=sparsity)))
        accuracy_one_shot = accuracy(one_shot)
        del one_shot
        recovered, metrics = prune(load_classifier(base_folder), PruneConfig(
            unstructured=UnstructuredPruneConfig(sparsity=sparsity),
            fine_tune_steps=args.recovery_steps, learning_rate=args.recovery_learning_rate),
            data=train_ds)
        folder = save_classifier(recovered, output / f"unstructured_{int(sparsity * 100)}",
                                 train.label_names)
        weights = folder / "model.weights.h5"
        row = {"sparsity": sparsity, "measured_sparsity": metrics["sparsity"],
               "accuracy_one_shot": accuracy_one_shot,
               "accuracy_recovered": accuracy(recovered),
               "weights_bytes": weights.stat().st_size, "weights_gzip_bytes": gzip_size(weights)}
        results["unstructured"].append(row)
        write_json(results, partial_file)
        logger.info("unstructured %s", row)
        del recovered

    base = load_classifier(base_folder)
    config = StructuredPruneConfig(heads_fraction=args.heads_fraction,
                                   ffn_fraction=args.ffn_fraction, depth=args.depth,
                                   importance=args.importance)
    pruned, report = structured_prune(base, config, calibration_data=train_ds)
    latency = tflite_latencies({"baseline": base, "pruned": pruned}, output, args.latency_runs)
    structured = {"config": vars(config), "shape_before": report["shape_before"],
                  "shape_after": report["shape_after"],
                  "parameters_before": report["parameters_before"],
                  "parameters_after": report["parameters_after"],
                  "latency_before": latency["baseline"], "latency_after": latency["pruned"],
                  "speedup": round(latency["baseline"]["median_ms"]
                                   / latency["pruned"]["median_ms"], 2),
                  "accuracy_one_shot": accuracy(pruned)}
    unlabelled, sources = (), ()
    if args.augment_in_domain > 0:
        # The whole training split; the distiller drops the labelled subset, dev and test texts.
        unlabelled, sources = training_split_texts(spec), ("training-split",)
    # Recover by distillation from the unpruned parent (its logits cached once); a killed
    # run resumes after the recovery's last finished epoch.
    pruned, recovery = distill(base, pruned, splits, DistillConfig(
        epochs=args.recovery_epochs, batch_size=args.batch_size,
        learning_rate=args.distill_learning_rate, temperature=2.0, alpha=0.8, patience=0,
        augment_sources=sources, augment_max_texts=args.augment_in_domain, seed=args.seed),
        run_dir=output / "structured_recovery", resume=True, unlabelled_texts=unlabelled,
        verbose=2)
    structured["recovery_examples"] = len(train.texts) + recovery["augmentation_examples"]
    structured["accuracy_recovered"] = accuracy(pruned)
    structured["accuracy_lost"] = round(results["baseline_accuracy"]
                                        - structured["accuracy_recovered"], 4)
    save_classifier(pruned, output / "structured", train.label_names)
    results["structured"] = structured
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["threads"] = os.cpu_count()
    write_json(results, output / "results.json")
    table = markdown(results)
    (output / "results.md").write_text(table)
    print(table)
    print(json.dumps({"structured_shape_after": structured["shape_after"],
                      "seconds": results["seconds"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
