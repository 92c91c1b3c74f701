"""POS tagging on a held-out Brown split: teacher vs compressed student, size and latency.

Teacher: an ALBERT trained from scratch (no pretrained ALBERT exists offline) on a Brown
training subset with the 12 universal tags. Student: the teacher structurally pruned (heads,
FFN neurons, depth), then distilled on per-token soft labels, then exported to TFLite
(dynamic-int8). Every number is measured on the same held-out test sentences; the artifacts are
scored by running them.

    .venv/bin/python benchmarks/pos_brown.py --out runs/pos_brown

Writes `results.json` and `results.md` into `--out`.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path


def _latency_ms(function, runs: int = 30) -> float:
    function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/pos_brown")
    parser.add_argument("--train", type=int, default=5000, help="training sentences")
    parser.add_argument("--dev", type=int, default=500)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--vocab-size", type=int, default=4000)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--distill-epochs", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    import keras

    from albert_tf.compress.distill import distill
    from albert_tf.compress.prune import StructuredPruneConfig, structured_prune
    from albert_tf.data.splits import Splits
    from albert_tf.data.tagging_splits import load_tagging_splits
    from albert_tf.deploy import TFLiteRunner, export_tflite
    from albert_tf.deploy.tagging_graph import tflite_word_predictions
    from albert_tf.tagging.config import TagFinetuneJob, TaggingDataSpec, TokenDistillConfig
    from albert_tf.tagging.metrics import tagging_report
    from albert_tf.tagging.model import load_token_classifier, save_token_classifier
    from albert_tf.text.token_pipeline import INPUT_NAMES, evaluate_tagger
    from albert_tf.train.config import FinetuneConfig
    from albert_tf.train.job import run_tag_finetune_job

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    teacher_shape = dict(num_layers=4, num_heads=4, embedding_dim=128, hidden_dim=256,
                         intermediate_dim=1024, num_groups=1, num_inner_repetitions=1)
    data = TaggingDataSpec(source="brown-corpus", seed=0, train_limit=args.train,
                           dev_limit=args.dev, test_limit=args.test)
    job = TagFinetuneJob(data=data, model=teacher_shape, vocab_size=args.vocab_size,
                         sequence_length=args.sequence_length,
                         train=FinetuneConfig(epochs=args.epochs, batch_size=32,
                                              learning_rate=1e-3, patience=0))
    started = time.perf_counter()
    teacher_run = out / "teacher"
    teacher_metrics = run_tag_finetune_job(
        job, teacher_run, resume=(teacher_run / "checkpoints").exists(), verbose=2)
    teacher_seconds = time.perf_counter() - started
    teacher = load_token_classifier(teacher_run / "model")
    tag_names = teacher_metrics["tag_names"]
    train, dev, test = load_tagging_splits(data)
    majority = train.majority_tag()

    keras.utils.set_random_seed(0)
    student, prune_report = structured_prune(
        teacher, StructuredPruneConfig(heads_fraction=0.5, ffn_fraction=0.5, depth=2))
    pruned_test = evaluate_tagger(student, test, majority_tag=majority)
    started = time.perf_counter()
    student, distill_metrics = distill(
        teacher, student, Splits(train, dev, None),
        TokenDistillConfig(epochs=args.distill_epochs, batch_size=32, learning_rate=5e-4),
        verbose=2)
    distill_seconds = time.perf_counter() - started
    save_token_classifier(student, out / "student", tag_names)
    student_test = evaluate_tagger(student, test, majority_tag=majority)

    gold = [[tag_names[i] for i in s] for s in test.tags]
    rows = []
    aligned = teacher.preprocessor.align(test.words[:1])
    one = {name: aligned[name].numpy() for name in INPUT_NAMES}
    for label, model in (("teacher", teacher), ("student", student)):
        for mode in ("float32", "dynamic-int8"):
            path = out / f"{label}_{mode}.tflite"
            export = export_tflite(model, path, mode, label_names=tag_names)
            runner = TFLiteRunner(path, num_threads=1)
            predictions = tflite_word_predictions(runner, model.preprocessor, test.words)
            report = tagging_report(gold, predictions.tag_names(tag_names), tag_names)
            rows.append({"model": label, "artifact": f"TFLite {mode}",
                         "size_bytes": export["size_bytes"],
                         "token_accuracy": report["token_accuracy"],
                         "latency_ms": _latency_ms(lambda: runner.predict_packed(one))})
    import tensorflow as tf

    for label, model, keras_report in (("teacher", teacher, teacher_metrics["test"]),
                                       ("student", student, student_test)):
        call = tf.function(lambda x, m=model: m(x, training=False))
        rows.insert(0 if label == "teacher" else 3, {
            "model": label, "artifact": "Keras float32",
            "size_bytes": _folder_bytes(out / label / "model") if label == "teacher"
            else _folder_bytes(out / "student"),
            "token_accuracy": keras_report["token_accuracy"],
            "latency_ms": _latency_ms(lambda: call(one))})

    results = {
        "data": {"train": len(train), "dev": len(dev), "test": len(test),
                 "test_words": student_test["words"],
                 "test_words_without_prediction_teacher":
                     teacher_metrics["test"]["words_without_prediction"],
                 "vocab_size": args.vocab_size, "sequence_length": args.sequence_length},
        "majority_tag_accuracy": student_test["majority_tag_accuracy"],
        "teacher": {"shape": teacher_shape, "parameters": teacher_metrics["parameters"],
                    "epochs": args.epochs, "train_seconds": round(teacher_seconds, 1),
                    "test": teacher_metrics["test"]["token_accuracy"]},
        "student": {"structured_pruning": prune_report["shape_after"],
                    "parameters": int(student.count_params()),
                    "pruned_before_distillation_test": pruned_test["token_accuracy"],
                    "distill": {"best_epoch": distill_metrics["best_epoch"],
                                "best_dev_accuracy":
                                    distill_metrics["dev"]["student"]["token_accuracy"]},
                    "distill_seconds": round(distill_seconds, 1),
                    "test": student_test["token_accuracy"]},
        "artifacts": rows,
        "command": "python benchmarks/pos_brown.py " + " ".join(argv or sys.argv[1:]),
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    lines = ["| model | artifact | size | token accuracy (test) | latency, batch 1 (ms) |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['artifact']} | {r['size_bytes'] / 1e6:.2f} MB | "
                     f"{r['token_accuracy']:.4f} | {r['latency_ms']:.2f} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps({k: v for k, v in results.items() if k != "artifacts"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
