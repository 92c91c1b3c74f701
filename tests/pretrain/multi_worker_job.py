"""One worker of the two-worker tests, started with `TF_CONFIG`: `albert-tf pretrain
--strategy multi-worker` (tiny), then a tiny fine-tuning of its output and a tiny distillation
under the same strategy, in one process (TensorFlow allows one multi-worker strategy per
process).

Usage: python multi_worker_job.py RUN_DIR CORPUS_TXT STEPS [--resume]
"""

import json
import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS / "compress")]  # the tiny-model helpers

PRETRAIN_FLAGS = ["--model", "albert-tiny", "--vocab-size", "600", "--sequence-length", "32",
                  "--held-out-fraction", "0.1", "--batch-size", "8", "--learning-rate", "2e-3",
                  "--checkpoint-every", "2", "--strategy", "multi-worker"]


def main(run_dir: Path, corpus: str, steps: str, *resume: str) -> int:
    import keras
    from distill_fixtures import (
        randomize_weights,
        tiny_bert_teacher,
        tiny_student_shape,
        wordpiece_vocabulary,
    )

    from albert_tf.cli import main as albert_tf
    from albert_tf.compress.distill import DistillConfig, StudentInit, build_student, distill
    from albert_tf.data import Splits
    from albert_tf.data.spec import DataSpec, load_splits
    from albert_tf.train.config import FinetuneConfig
    from albert_tf.train.job import FinetuneJob, run_finetune_job
    from albert_tf.train.strategy import make_strategy

    code = albert_tf(["pretrain", "--corpus", corpus, *PRETRAIN_FLAGS, "--steps", steps,
                      "--run-dir", str(run_dir / "pretrain"), *resume])
    if code:
        return code
    spec = DataSpec(source="rotten-tomatoes", train_limit=64, dev_limit=16, test_limit=16)
    # Each worker fine-tunes its own copy of the pre-trained model (the chief's may still be
    # being written).
    pretrained = run_dir / "pretrain"
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    if index:
        pretrained = pretrained / "workers" / f"worker-{index}"
    run_finetune_job(FinetuneJob(data=spec, model=str(pretrained / "model"), sequence_length=32,
                                 train=FinetuneConfig(epochs=2, batch_size=16, patience=0),
                                 strategy="multi-worker"),
                     run_dir / "finetune", verbose=0)
    train, dev, test = load_splits(spec)
    keras.utils.set_random_seed(0)  # a process of its own: nothing else to disturb
    teacher = randomize_weights(tiny_bert_teacher(wordpiece_vocabulary(train.texts)))
    with make_strategy("multi-worker").scope():
        student = build_student(teacher, StudentInit("scratch", shape=tiny_student_shape()))
    config = DistillConfig(epochs=2, batch_size=16, learning_rate=1e-3, strategy="multi-worker")
    distill(teacher, student, Splits(train, dev, test), config, run_dir=run_dir / "distill",
            verbose=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), *sys.argv[2:]))
