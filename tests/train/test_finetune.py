import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from albert_tf.classification_metrics import evaluate_classifier
from albert_tf.errors import UserError
from albert_tf.models import build_classifier
from albert_tf.text import make_dataset
from albert_tf.train.config import FinetuneConfig
from albert_tf.train.finetune import finetune
from albert_tf.train.schedule import WarmupLinearDecay


def _setup(examples, sentencepiece_model, batch=16, length=32):
    import keras

    # Seeded before this test's tokenizer exists (seeding clears TensorFlow's kernel cache,
    # which a live SentencePiece resource would not survive): same start, same result.
    keras.utils.set_random_seed(0)
    model = build_classifier("albert-tiny", num_classes=2, tokenizer=sentencepiece_model,
                             sequence_length=length)
    train_ds = make_dataset(examples, model.preprocessor, batch, shuffle=True)
    eval_ds = make_dataset(examples, model.preprocessor, 64)
    return model, train_ds, eval_ds


def test_finetuning_fits_real_training_examples(tmp_path, rotten_tomatoes_small,
                                                sentencepiece_model):
    train = rotten_tomatoes_small[0].select(range(64))
    model, train_ds, eval_ds = _setup(train, sentencepiece_model)
    before = evaluate_classifier(model, eval_ds, train.labels)["loss"]
    # 80 steps: enough for a tiny model to fit 64 examples from any random start.
    config = FinetuneConfig(epochs=20, batch_size=16, learning_rate=3e-3, warmup_fraction=0.1,
                            patience=0)
    summary = finetune(model, train_ds, eval_ds, config, tmp_path, train_examples=64, verbose=0)
    after = evaluate_classifier(model, eval_ds, train.labels)
    assert summary["epochs_done"] == 20
    assert after["loss"] < before * 0.5
    assert after["accuracy"] >= 0.9
    assert (tmp_path / "logs").is_dir()  # TensorBoard


def test_resume_continues_after_the_last_finished_epoch(tmp_path, rotten_tomatoes_small,
                                                        sentencepiece_model):
    train = rotten_tomatoes_small[0].select(range(48))
    model, train_ds, eval_ds = _setup(train, sentencepiece_model)
    config = FinetuneConfig(epochs=1, batch_size=16, learning_rate=1e-3, patience=0)
    finetune(model, train_ds, eval_ds, config, tmp_path, train_examples=48, verbose=0)
    with pytest.raises(UserError, match="--resume"):
        finetune(model, train_ds, eval_ds, config, tmp_path, train_examples=48, verbose=0)

    # A new process would rebuild the model from scratch: so do we.
    fresh, train_ds, eval_ds = _setup(train, sentencepiece_model)
    config = FinetuneConfig(epochs=2, batch_size=16, learning_rate=1e-3, patience=0)
    summary = finetune(fresh, train_ds, eval_ds, config, tmp_path, train_examples=48,
                       resume=True, verbose=0)
    assert [e["epoch"] for e in summary["history"]] == [1, 2]
    assert int(fresh.optimizer.iterations.numpy()) == 2 * 3  # 3 steps per epoch, twice
    files = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert "epoch-001.npz" not in files and "epoch-002.npz" in files


def _one_checkpointed_epoch(run_dir, rotten_tomatoes_small, sentencepiece_model):
    """A run killed after epoch 1 (its checkpoint), and fresh data for resuming it."""
    train = rotten_tomatoes_small[0].select(range(32))
    model, train_ds, eval_ds = _setup(train, sentencepiece_model)
    config = FinetuneConfig(epochs=1, batch_size=16, learning_rate=1e-3, patience=0)
    finetune(model, train_ds, eval_ds, config, run_dir, train_examples=32, verbose=0)
    return train


def _resume(model, train, sentencepiece_model, run_dir):
    _, train_ds, eval_ds = _setup(train, sentencepiece_model)
    finetune(model, train_ds, eval_ds, FinetuneConfig(epochs=2, batch_size=16, patience=0),
             run_dir, train_examples=32, resume=True, verbose=0)


@pytest.mark.parametrize("damage, message", [
    (lambda folder: (folder / "epoch-001.npz").write_bytes(
        (folder / "epoch-001.npz").read_bytes()[:200]), "cannot be read"),
    (lambda folder: (folder / "state.json").write_text("{epochs_done: 1"),
     "is not a checkpoint state"),
])
def test_a_damaged_checkpoint_is_one_clear_error(tmp_path, rotten_tomatoes_small,
                                                sentencepiece_model, damage, message):
    train = _one_checkpointed_epoch(tmp_path, rotten_tomatoes_small, sentencepiece_model)
    damage(tmp_path / "checkpoints")
    fresh, _, _ = _setup(train, sentencepiece_model)
    with pytest.raises(UserError, match=message):
        _resume(fresh, train, sentencepiece_model, tmp_path)


def test_resuming_with_another_model_size_is_refused(tmp_path, rotten_tomatoes_small,
                                                     sentencepiece_model):
    train = _one_checkpointed_epoch(tmp_path, rotten_tomatoes_small, sentencepiece_model)
    bigger = build_classifier("albert-small", num_classes=2, tokenizer=sentencepiece_model,
                              sequence_length=32)
    with pytest.raises(UserError, match="another model size or settings"):
        _resume(bigger, train, sentencepiece_model, tmp_path)


def test_early_stopping_ends_a_run_without_dev_progress(tmp_path, rotten_tomatoes_small,
                                                        sentencepiece_model):
    train = rotten_tomatoes_small[0].select(range(32))
    model, train_ds, eval_ds = _setup(train, sentencepiece_model)
    # A learning rate this small cannot move dev accuracy: epoch 2 is no better than epoch 1.
    config = FinetuneConfig(epochs=6, batch_size=16, learning_rate=1e-12, patience=1)
    summary = finetune(model, train_ds, eval_ds, config, tmp_path, train_examples=32, verbose=0)
    assert summary["stopped_early"] and summary["epochs_done"] == 2
    assert summary["best_epoch"] == 1


def test_mixed_bfloat16_policy_trains(tmp_path, rotten_tomatoes_small, sentencepiece_model):
    import keras

    from albert_tf.train.strategy import set_precision

    train = rotten_tomatoes_small[0].select(range(32))
    set_precision("mixed_bfloat16")
    try:
        model, train_ds, eval_ds = _setup(train, sentencepiece_model)
        config = FinetuneConfig(epochs=1, batch_size=16, learning_rate=1e-3, patience=0)
        summary = finetune(model, train_ds, eval_ds, config, tmp_path, train_examples=32,
                           verbose=0)
        dense = model.backbone.embeddings_projection
        assert dense.compute_dtype == "bfloat16" and dense.kernel.dtype == "float32"
        assert np.isfinite(summary["history"][0]["loss"])
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    with pytest.raises(UserError, match="precision"):
        set_precision("float8")


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, sentencepiece_model):
    """Logical devices must be configured before TensorFlow starts: a fresh process."""
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from types import SimpleNamespace
        from albert_tf.models import build_classifier
        from albert_tf.text import make_dataset
        from albert_tf.train.config import FinetuneConfig
        from albert_tf.train.finetune import finetune
        from albert_tf.train.strategy import make_strategy
        strategy = make_strategy("mirrored")
        with strategy.scope():
            model = build_classifier("albert-tiny", 2, tokenizer={sentencepiece_model!r},
                                     sequence_length=16)
        ex = SimpleNamespace(texts=["good fun", "dull mess"] * 16, pairs=None,
                             labels=np.array([1, 0] * 16))
        ds = make_dataset(ex, model.preprocessor, 8, shuffle=True)
        out = finetune(model, ds, ds, FinetuneConfig(epochs=1, batch_size=8, patience=0),
                       {str(tmp_path)!r}, train_examples=32, verbose=0)
        print(json.dumps({{"replicas": strategy.num_replicas_in_sync,
                           "loss": out["history"][0]["loss"]}}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2 and np.isfinite(report["loss"])


def test_warmup_linear_decay_schedule():
    schedule = WarmupLinearDecay(1e-3, warmup_steps=10, total_steps=110)
    values = [float(schedule(s)) for s in (0, 5, 10, 60, 110, 200)]
    np.testing.assert_allclose(values, [0, 5e-4, 1e-3, 5e-4, 0, 0], atol=1e-9)
    assert WarmupLinearDecay.from_config(schedule.get_config()).get_config() == \
        schedule.get_config()
