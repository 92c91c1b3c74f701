"""Students for the quickstart's budget: how the initialisation and the data move retention.

Fine-tunes the quickstart's teacher (recipes/quickstart.yaml: MiniLM, 2,000 rotten-tomatoes
snippets, 1 epoch, 48 tokens) once into `OUTPUT/teacher`, then for each row (`--rows`) builds a
student with 3 encoder calls and E = 128, distils it, and scores it on the recipe's 400 test
snippets before and after. Rows:

    average        the teacher's 6 layers averaged into 1 shared layer (the old quickstart),
                   2 epochs on the 2,000 labelled snippets
    anneal         3 distinct layers (`select`: of each pair of teacher layers the one that
                   best reproduces the pair), annealed into 1 shared layer over 2 epochs,
                   tied, then 1 more epoch
    distinct-aug   3 distinct layers, never shared, 2 epochs on the 2,000 snippets plus 4,000
                   more training-split texts labelled by the teacher
    anneal-aug     annealed over 1 epoch, tied, 1 more epoch, with the same 4,000 texts
    anneal-aug-32  anneal-aug with the student at 32 tokens instead of 48

Each result is appended to `OUTPUT/results.jsonl`; rows already there are skipped.

Example:
    python benchmarks/quickstart_students.py --rows average,anneal,distinct-aug,anneal-aug \\
        --output runs/bench_quickstart_students
"""

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

QUICKSTART = Path(__file__).resolve().parents[1] / "recipes" / "quickstart.yaml"
DISTINCT = dict(method="albertize", embedding_dim=128, num_groups=3, num_layers=3, merge="select")
SOFT = dict(batch_size=32, learning_rate=1e-4, temperature=2.0, alpha=0.8)
AUGMENT = dict(augment_sources=("training-split",), augment_max_texts=4000)
ROWS = {
    "average": (dict(method="albertize", embedding_dim=128, num_groups=1, num_layers=3),
                dict(epochs=2)),
    "anneal": (DISTINCT, dict(epochs=2, share_groups=1, share_tie_epochs=1)),
    "distinct-aug": (DISTINCT, dict(epochs=2, **AUGMENT)),
    "anneal-aug": (DISTINCT, dict(epochs=1, share_groups=1, share_tie_epochs=1, **AUGMENT)),
    "anneal-aug-32": ({**DISTINCT, "sequence_length": 32},
                      dict(epochs=1, share_groups=1, share_tie_epochs=1, **AUGMENT)),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="average,anneal,distinct-aug,anneal-aug",
                        help=f"comma-separated, from {', '.join(ROWS)}")
    parser.add_argument("--output", default="runs/bench_quickstart_students")
    args = parser.parse_args()
    rows = [r for r in args.rows.split(",") if r]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}: allowed are {', '.join(ROWS)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    import keras

    from albert_tf.compress.distill import DistillConfig, StudentInit, build_student, distill
    from albert_tf.compress.distill.augment import requested_unlabelled_texts
    from albert_tf.compress.distill.distiller import student_logits
    from albert_tf.data import Splits
    from albert_tf.data.spec import load_splits
    from albert_tf.models import count_parameters, load_classifier
    from albert_tf.recipe.loader import load_recipe
    from albert_tf.text import tokenize
    from albert_tf.train.job import FinetuneJob, run_finetune_job

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    recipe = load_recipe(QUICKSTART)
    splits = Splits(*load_splits(recipe.data))
    t = recipe.teacher
    if not (out / "teacher" / "model" / "task.json").is_file():
        job = FinetuneJob(data=recipe.data, model=t.model, tokenizer=t.tokenizer,
                          vocab_size=t.vocab_size, sequence_length=t.sequence_length,
                          train=t.finetune, precision=t.precision, strategy=t.strategy)
        run_finetune_job(job, out / "teacher", resume=True)
    teacher = load_classifier(out / "teacher" / "model")
    labels = np.asarray(splits.test.labels)

    def accuracy(model):
        inputs = tokenize(model.preprocessor, splits.test.texts)
        return float((student_logits(model, inputs).argmax(-1) == labels).mean())

    results = out / "results.jsonl"
    done = {json.loads(line)["row"] for line in results.read_text().splitlines()} \
        if results.exists() else set()
    teacher_accuracy = accuracy(teacher)
    for row in rows:
        if row in done:
            continue
        init, settings = ROWS[row]
        keras.utils.set_random_seed(0)  # the student's head and dropout; before any tokenizer use
        student = build_student(teacher, StudentInit(**init), texts=splits.train.texts)
        start = accuracy(student)
        config = DistillConfig(**SOFT, **settings)
        started = time.perf_counter()
        student, metrics = distill(
            teacher, student, splits, config, run_dir=out / row, resume=True, verbose=2,
            unlabelled_texts=requested_unlabelled_texts(config, recipe.data))
        final = accuracy(student)
        result = {"row": row, "teacher": teacher_accuracy, "start": start, "final": final,
                  "retention": final / teacher_accuracy,
                  "seconds": round(time.perf_counter() - started, 1),
                  "parameters": count_parameters(student)["parameters"],
                  "augmentation_examples": metrics.get("augmentation_examples", 0)}
        with results.open("a") as f:
            f.write(json.dumps(result) + "\n")
        logging.info("row %s: %s", row, result)


if __name__ == "__main__":
    main()
