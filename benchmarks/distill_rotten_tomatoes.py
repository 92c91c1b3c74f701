"""Distillation on rotten-tomatoes: the MiniLM teacher against smaller ALBERT students.

Measures, on a held-out test subset, for the fine-tuned MiniLM (BERT) teacher and ALBERT
students distilled from it:

* test accuracy and agreement with the teacher,
* parameters, with and without the token-embedding table,
* size of the saved weights (keras-hub preset `model.weights.h5` + `task.weights.h5`),
* CPU latency of one batch-1 call at the sequence length (graph mode, median of runs),

for these rows (`--rows`, comma-separated; `main` and `ablation` name groups):

    albertize-init    the albertized teacher (E, G from the flags) before any training
    albertize         albertized, then soft labels (T, alpha)                     [main]
    scratch           `--scratch-config` at random over the teacher's WordPiece, soft labels [main]
    albertize-e64     albertized with E = 64 instead of `--embedding-dim`, soft labels [main]
    hard              albertized, hard labels only (alpha = 0)                     [ablation]
    hidden            albertized, soft labels + hidden-state transfer              [ablation]
    augment           albertized, soft labels + teacher-labelled Brown Corpus texts [ablation]
    select            albertized with the `select` layer merge, soft labels        [ablation]
    e64-augment       E = 64, soft labels + Brown texts + up to `--augment-in-domain` texts
                      of the rest of the training split without their labels (the
                      ingredients that helped, at the 5x size)

Each row's result is written to `results.json` as soon as it is done and finished rows are
skipped when the script runs again, so a long run can be continued. The machine's load average
is recorded with every row: latency on a shared machine is only comparable within one run.

Example:
    albert-tf finetune --model minilm-teacher --train-limit 4000 --sequence-length 64 \\
        --epochs 2 --run-dir runs/minilm
    python benchmarks/distill_rotten_tomatoes.py --teacher runs/minilm/model \\
        --train-limit 2000 --test-limit 1000 --epochs 2 --output runs/bench_distill
"""

import argparse
import json
import logging
import os
import time
from pathlib import Path

logger = logging.getLogger("benchmarks.distill_rotten_tomatoes")

MAIN_ROWS = ["teacher", "albertize-init", "albertize", "scratch", "albertize-e64"]
ABLATION_ROWS = ["hard", "hidden", "augment", "select"]
EXTRA_ROWS = ["e64-augment"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default=None,
                        help="fine-tuned teacher folder (e.g. from `albert-tf finetune --model "
                             "minilm-teacher`); default: fine-tune the MiniLM teacher here")
    parser.add_argument("--output", default="runs/bench_distill", help="results folder")
    parser.add_argument("--rows", default="main", help="rows to run: names, main, ablation, all")
    parser.add_argument("--train-limit", type=int, default=2000)
    parser.add_argument("--dev-limit", type=int, default=200)
    parser.add_argument("--test-limit", type=int, default=1000)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--teacher-epochs", type=int, default=2,
                        help="fine-tuning epochs when the teacher is trained here")
    parser.add_argument("--epochs", type=int, default=2, help="distillation epochs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--alpha", type=float, default=0.8)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--num-groups", type=int, default=1)
    parser.add_argument("--scratch-config", default="albert-small")
    parser.add_argument("--augment-max", type=int, default=2000)
    parser.add_argument("--augment-in-domain", type=int, default=4000,
                        help="e64-augment: unlabelled texts from the rest of the training split")
    parser.add_argument("--latency-runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def selected_rows(text: str) -> list[str]:
    rows = []
    for name in text.split(","):
        name = name.strip()
        rows += {"main": MAIN_ROWS, "ablation": ABLATION_ROWS,
                 "all": MAIN_ROWS + ABLATION_ROWS + EXTRA_ROWS}.get(name, [name])
    known = MAIN_ROWS + ABLATION_ROWS + EXTRA_ROWS
    unknown = sorted(set(rows) - set(known))
    if unknown:
        raise SystemExit(f"unknown rows {unknown}: choose from {known}")
    return list(dict.fromkeys(rows))


def weights_megabytes(model, folder: Path) -> float:
    """Megabytes of the weight files of `model` saved as a keras-hub preset."""
    from albert_tf.models import save_classifier

    save_classifier(model, folder)
    files = [folder / "model.weights.h5", folder / "task.weights.h5"]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 1e6, 2)


def latency(model, sequence_length: int, runs: int) -> dict:
    """Batch-1 latency of the classifier on token ids, graph mode (one traced function)."""
    import numpy as np
    import tensorflow as tf

    from albert_tf.bench.latency import latency_stats

    inputs = {"token_ids": np.full((1, sequence_length), 5, "int32"),
              "segment_ids": np.zeros((1, sequence_length), "int32"),
              "padding_mask": np.ones((1, sequence_length), "int32")}
    call = tf.function(lambda x: model(x, training=False))
    return latency_stats(lambda: call(inputs).numpy(), runs=runs, warmup=3)


def measure(name, model, teacher_test_logits, test, args, output: Path, extra=None) -> dict:
    """Everything the table reports for one model."""
    import numpy as np

    from albert_tf.classification_metrics import classification_report
    from albert_tf.compress.distill.distiller import student_logits
    from albert_tf.compress.distill.tokenization import tokenize
    from albert_tf.models import count_parameters

    logits = student_logits(model, tokenize(model.preprocessor, test.texts), 64)
    report = classification_report(test.labels, logits, test.label_names)
    row = {
        "name": name,
        "test_accuracy": round(report["accuracy"], 4),
        "test_macro_f1": round(report["macro_f1"], 4),
        "agreement_with_teacher": (None if teacher_test_logits is None else round(float(
            np.mean(logits.argmax(-1) == teacher_test_logits.argmax(-1))), 4)),
        **count_parameters(model),
        "weights_mb": weights_megabytes(model, output / "models" / name),
        "latency_batch1": latency(model, args.sequence_length, args.latency_runs),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    row.update(extra or {})
    logger.info("%s: %s", name, json.dumps(row))
    return row, logits


def unlabelled_texts(args, train, dev, test) -> list[str]:
    """`--augment-in-domain` texts of the rest of the training split (labels not used) and
    `--augment-max` Brown Corpus sentences, each a seeded sample; no dev or test text."""
    from albert_tf.compress.distill.augment import augmentation_texts, training_split_texts
    from albert_tf.data.spec import DataSpec

    whole_train = training_split_texts(DataSpec(source="rotten-tomatoes", seed=args.seed,
                                                dev_limit=args.dev_limit,
                                                test_limit=args.test_limit))
    exclude = [*train.texts, *dev.texts, *test.texts]
    return (augmentation_texts((), whole_train, exclude, args.augment_in_domain, seed=args.seed)
            + augmentation_texts(("brown-corpus",), (), exclude, args.augment_max,
                                 seed=args.seed))


def load_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {"rows": {}}


def save_results(path: Path, results: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2))
    os.replace(tmp, path)
    (path.parent / "results.md").write_text(markdown_table(results))


def markdown_table(results: dict) -> str:
    header = ("| model | test acc | agreement | params | params w/o token emb | weights MB | "
              "latency ms (b=1) | distill s |\n|---|---|---|---|---|---|---|---|\n")
    lines = []
    for row in results["rows"].values():
        agreement = row["agreement_with_teacher"]
        agreement = "-" if agreement is None else f"{agreement:.3f}"
        lines.append(
            f"| {row['name']} | {row['test_accuracy']:.3f} | {agreement} | "
            f"{row['parameters'] / 1e6:.2f} M | "
            f"{row['parameters_without_token_embedding'] / 1e6:.2f} M | {row['weights_mb']} | "
            f"{row['latency_batch1']['median_ms']:.1f} | {row.get('distill_seconds', '-')} |")
    return header + "\n".join(lines) + "\n\n" + json.dumps(results["setup"], indent=1) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    import keras

    # Seed before any tokenizer exists (seeding clears TensorFlow's kernel cache).
    keras.utils.set_random_seed(args.seed)
    from albert_tf.compress.distill import DistillConfig, StudentInit, build_student, distill
    from albert_tf.data import Splits
    from albert_tf.data.spec import DataSpec, load_splits
    from albert_tf.models import load_classifier
    from albert_tf.train.finetune import FinetuneConfig
    from albert_tf.train.job import FinetuneJob, run_finetune_job

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    rows = selected_rows(args.rows)
    spec = DataSpec(source="rotten-tomatoes", seed=args.seed, train_limit=args.train_limit,
                    dev_limit=args.dev_limit, test_limit=args.test_limit)
    train, dev, test = load_splits(spec)
    teacher_dir = Path(args.teacher) if args.teacher else output / "teacher" / "model"
    if not (teacher_dir / "task.json").is_file():
        logger.info("fine-tuning the MiniLM teacher (%d epochs on %d snippets)",
                    args.teacher_epochs, len(train))
        run_finetune_job(FinetuneJob(data=spec, model="minilm-teacher",
                                     sequence_length=args.sequence_length,
                                     train=FinetuneConfig(epochs=args.teacher_epochs,
                                                          seed=args.seed)),
                         output / "teacher")
    teacher = load_classifier(teacher_dir)
    teacher.preprocessor.sequence_length = args.sequence_length

    results_path = output / "results.json"
    results = load_results(results_path)
    results["setup"] = {
        "teacher": str(teacher_dir), "train": len(train), "dev": len(dev), "test": len(test),
        "sequence_length": args.sequence_length, "epochs": args.epochs,
        "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "temperature": args.temperature, "alpha": args.alpha,
        "embedding_dim": args.embedding_dim, "num_groups": args.num_groups,
        "scratch_config": args.scratch_config, "augment_max": args.augment_max,
        "augment_in_domain": args.augment_in_domain,
        "cpu_count": os.cpu_count(),
    }
    teacher_row, teacher_logits = measure("teacher", teacher, None, test, args, output)
    if "teacher" in rows:
        results["rows"]["teacher"] = teacher_row
        save_results(results_path, results)

    albertize = StudentInit("albertize", embedding_dim=args.embedding_dim,
                            num_groups=args.num_groups, sequence_length=args.sequence_length)
    base = DistillConfig(temperature=args.temperature, alpha=args.alpha, epochs=args.epochs,
                         batch_size=args.batch_size, learning_rate=args.learning_rate,
                         seed=args.seed)
    plans = {
        "albertize": (albertize, base),
        # E = 64 halves the token-embedding table: the size that clears 5x fewer parameters.
        "albertize-e64": (StudentInit(**{**albertize.__dict__, "embedding_dim": 64}), base),
        "scratch": (StudentInit("scratch", shape=args.scratch_config,
                                sequence_length=args.sequence_length), base),
        "hard": (albertize, DistillConfig(**{**base.__dict__, "alpha": 0.0})),
        "hidden": (albertize, DistillConfig(**{**base.__dict__, "hidden_weight": 1.0})),
        "augment": (albertize, DistillConfig(**{**base.__dict__,
                                                "augment_sources": ("brown-corpus",),
                                                "augment_max_texts": args.augment_max})),
        "select": (StudentInit(**{**albertize.__dict__, "merge": "select"}), base),
        "e64-augment": (StudentInit(**{**albertize.__dict__, "embedding_dim": 64}),
                        DistillConfig(**{**base.__dict__, "augment_max_texts": args.augment_max
                                         + args.augment_in_domain})),
    }
    unlabelled = ({"e64-augment": unlabelled_texts(args, train, dev, test)}
                  if "e64-augment" in rows else {})
    for name in rows:
        if name == "teacher" or name in results["rows"]:
            continue
        if name == "albertize-init":
            student = build_student(teacher, albertize, train.texts)
            row, _ = measure(name, student, teacher_logits, test, args, output)
        else:
            init, config = plans[name]
            student = build_student(teacher, init, train.texts)
            started = time.perf_counter()
            student, metrics = distill(teacher, student, Splits(train, dev, None), config,
                                       run_dir=output / "runs" / name, resume=True,
                                       unlabelled_texts=unlabelled.get(name, ()))
            row, _ = measure(name, student, teacher_logits, test, args, output, {
                "distill_seconds": round(time.perf_counter() - started, 1),
                "dev_accuracy": round(metrics["dev"]["student"]["accuracy"], 4),
                "best_epoch": metrics["best_epoch"],
                "augmentation_examples": metrics["augmentation_examples"],
            })
        results["rows"][name] = row
        save_results(results_path, results)
    print(markdown_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
