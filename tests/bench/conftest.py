"""Fixtures for the bench tests: a small ALBERT whose weights dominate its files, trained
briefly on real text, a structurally pruned child of it, and their artifacts (made once).

The models learn `word_presence_task` on real snippets (does the text contain "the"?), which a
model of this size learns to ~0.92, so an accuracy drop after compression is measurable;
`bench_splits` stay the real sentiment splits that the `albert-tf bench` runs load themselves.

Shape: vocabulary 1,000 (the root conftest's SentencePiece model), E = 64, H = 128, FFN 512,
4 heads, one shared layer applied 4 times, 64 tokens. Every weight matrix has >= 1,024
elements, so the dynamic-range quantizer stores all of them as int8, and the ~0.35 M weights
(1.4 MB as float32) dwarf the file's fixed part (graph, signatures, small float vectors):
that is what makes "dynamic int8 >= 3x smaller than float32" a property of the model, not
luck. Depth 4 and 64 tokens give each call enough matrix work (~0.11 GFLOP) for latency
ratios to stand above a noisy machine's timer jitter.
"""

from __future__ import annotations

import pytest
from tiny_models import fit_tiny_albert_classifier, word_presence_task

SEQUENCE_LENGTH = 64


@pytest.fixture(scope="session")
def bench_splits(rotten_tomatoes_small):
    return rotten_tomatoes_small


@pytest.fixture(scope="session")
def bench_task(bench_splits):
    """The splits relabelled by `word_presence_task`: what the bench models learn."""
    return tuple(word_presence_task(part) for part in bench_splits)


@pytest.fixture(scope="session")
def bench_parent(bench_task, sentencepiece_model):
    """The parent classifier, deterministic: seeded weights, no dropout, seeded shuffle."""
    return fit_tiny_albert_classifier(
        sentencepiece_model, bench_task[0], SEQUENCE_LENGTH, epochs=4, batch_size=32,
        num_layers=4, num_heads=4, embedding_dim=64, hidden_dim=128, intermediate_dim=512)


@pytest.fixture(scope="session")
def bench_pruned(bench_parent, bench_task):
    """Half the depth (4 -> 2 layer applications) and half the FFN neurons, then 30 steps of
    fine-tuning to win back accuracy."""
    from albert_tf.compress.prune import prune
    from albert_tf.compress.prune.structured import StructuredPruneConfig
    from albert_tf.compress.prune.transform import PruneConfig
    from albert_tf.text import make_dataset

    data = make_dataset(bench_task[0], bench_parent.preprocessor, 32, shuffle=True,
                        seed=0).repeat()
    pruned, _ = prune(bench_parent, PruneConfig(
        structured=StructuredPruneConfig(ffn_fraction=0.5, depth=2), fine_tune_steps=30,
        learning_rate=1e-3), data=data)
    return pruned


@pytest.fixture(scope="session")
def bench_files(bench_parent, bench_pruned, bench_splits, tmp_path_factory):
    """Saved models and TFLite files: `{name: path}`."""
    from albert_tf.deploy import export_tflite
    from albert_tf.models import save_classifier

    root = tmp_path_factory.mktemp("bench")
    # Sentiment label names, so `albert-tf bench --data rotten-tomatoes` takes these models
    # (the CLI tests check the plumbing; accuracy is judged on `bench_task`).
    names = list(bench_splits[0].label_names)
    files = {"parent_dir": save_classifier(bench_parent, root / "parent" / "model", names),
             "pruned_dir": save_classifier(bench_pruned, root / "pruned" / "model", names)}
    for mode in ("float32", "dynamic-int8"):  # float16 is covered in tests/deploy
        files[f"parent-{mode}"] = root / "parent" / f"model-{mode}.tflite"
        export_tflite(bench_parent, files[f"parent-{mode}"], mode, label_names=names,
                      parity=False)
    for mode in ("float32", "dynamic-int8"):
        files[f"pruned-{mode}"] = root / "pruned" / f"model-{mode}.tflite"
        export_tflite(bench_pruned, files[f"pruned-{mode}"], mode, label_names=names,
                      parity=False)
    return files
