"""One worker of the two-worker test, started with `TF_CONFIG`: a tiny pre-training, then a
tiny distillation, both under `multi-worker` in this one process (TensorFlow allows one
multi-worker strategy per process).

Usage: python multi_worker_job.py RUN_DIR CORPUS_TXT
"""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS / "compress")]  # the tiny-model helpers


def main(run_dir: Path, corpus: str) -> None:
    import keras
    from distill_fixtures import (
        randomize_weights,
        tiny_bert_teacher,
        tiny_student_shape,
        wordpiece_vocabulary,
    )

    from albert_tf.compress.distill import DistillConfig, StudentInit, build_student, distill
    from albert_tf.data import Splits
    from albert_tf.data.spec import DataSpec, load_splits
    from albert_tf.pretrain.job import PretrainConfig, PretrainJob, run_pretrain_job
    from albert_tf.train.strategy import make_strategy

    job = PretrainJob(corpus=[corpus], model="albert-tiny", vocab_size=600, sequence_length=32,
                      held_out_fraction=0.1, strategy="multi-worker",
                      train=PretrainConfig(steps=4, batch_size=8, learning_rate=2e-3,
                                           checkpoint_every=2))
    run_pretrain_job(job, run_dir / "pretrain", verbose=0)

    train, dev, test = load_splits(DataSpec(source="rotten-tomatoes", train_limit=64,
                                            dev_limit=16, test_limit=16))
    keras.utils.set_random_seed(0)  # a process of its own: nothing else to disturb
    teacher = randomize_weights(tiny_bert_teacher(wordpiece_vocabulary(train.texts)))
    with make_strategy("multi-worker").scope():
        student = build_student(teacher, StudentInit("scratch", shape=tiny_student_shape()))
    config = DistillConfig(epochs=2, batch_size=16, learning_rate=1e-3, strategy="multi-worker")
    distill(teacher, student, Splits(train, dev, test), config, run_dir=run_dir / "distill",
            verbose=0)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
