"""A pre-training run: corpus, tokenizer, packed examples, checkpointed training, a preset.

The run folder holds, in the order they are made:
  job.json           the settings (a resume must use the same ones, except `train.steps`)
  tokenizer.model    SentencePiece trained on the corpus (named configurations only)
  examples.npz       packed training examples (tokenised once; masking is per batch)
  held_out.npz       held-out examples with their masks fixed, so every checkpoint is scored
                     on the same positions
  checkpoints/       weights and optimizer state every `checkpoint_every` steps
  logs/              TensorBoard
  model/             the keras-hub preset folder (backbone + tokenizer, heads beside them)
  metrics.json       corpus, steps, time, held-out MLM and SOP accuracy per checkpoint
  workers/           under `multi-worker`, each other worker's own folder of the same files
                     (its checkpoints deleted once written: the chief's are the run's)
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from albert_tf.errors import UserError
from albert_tf.pretrain.config import PretrainConfig, PretrainJob  # noqa: F401  (their old home)

logger = logging.getLogger(__name__)

JOB_FILE = "job.json"
# A finished or killed run may be taken further, on another number of devices or machines.
RESUMABLE_CHANGES = {"train.steps", "strategy"}


def split_documents(documents: list, fraction: float, seed: int) -> tuple[list, list]:
    """`(train, held_out)` documents: a seeded share of the multi-segment documents (at least
    one, at most 2,000) is held out, so both scores have pairs to score."""
    rng = np.random.default_rng(seed)
    candidates = [i for i, d in enumerate(documents) if len(d) >= 2]
    count = min(2000, max(1, int(round(len(candidates) * fraction))))
    if len(candidates) < 2:
        raise UserError("sentence-order prediction needs documents of two or more segments "
                        f"(sentences), and this corpus has {len(candidates)}: give at least "
                        "two such documents (one is held out for scoring)")
    held = set(rng.choice(candidates, size=min(count, len(candidates) - 1), replace=False)
               .tolist())
    return ([d for i, d in enumerate(documents) if i not in held],
            [d for i, d in enumerate(documents) if i in held])


def run_pretrain_job(job: PretrainJob, run_dir: str | os.PathLike, resume: bool = False,
                     verbose="auto") -> dict:
    """Run `job` into `run_dir`; return its metrics (also written to metrics.json)."""
    from albert_tf.pretrain.corpus import load_corpus
    from albert_tf.train.checkpoint import CheckpointStore, check_resume_settings
    run_dir = Path(run_dir)
    store = CheckpointStore(run_dir)
    if store.exists() and not resume:
        raise UserError(f"{run_dir} already holds a pre-training checkpoint: pass --resume to "
                        "continue it, or choose another run folder")
    # Data first: bad input is reported before TensorFlow starts.
    corpus = load_corpus(job.corpus, seed=job.corpus_seed, leave_out=job.leave_out)
    train_docs, held_docs = split_documents(corpus.documents, job.held_out_fraction,
                                            job.train.seed)

    import keras

    from albert_tf.json_files import write_json
    from albert_tf.pretrain import segment_pairs
    from albert_tf.pretrain.model import build_pretrainer, restore_heads, save_pretrained
    from albert_tf.train.distributed import checkpoint_store, work_folder
    from albert_tf.train.finetune import make_optimizer
    from albert_tf.train.strategy import make_strategy, precision_scope

    strategy = make_strategy(job.strategy)
    # The chief writes into run_dir; other workers into their own folder (caches, outputs).
    work_dir = work_folder(run_dir, strategy)
    work_dir.mkdir(parents=True, exist_ok=True)
    _drop_stale_caches(work_dir, job)
    check_resume_settings(work_dir / JOB_FILE, asdict(job), resume and store.exists(),
                          RESUMABLE_CHANGES)
    store = checkpoint_store(run_dir, strategy)
    with precision_scope(job.precision), strategy.scope():
        keras.utils.set_random_seed(job.train.seed)
        masked_lm, tokenizer = _model_and_tokenizer(job, corpus, work_dir)
        model = build_pretrainer(masked_lm)
        special = segment_pairs.SpecialIds.of(tokenizer)
        train_examples = _cached_examples(work_dir / "examples.npz", train_docs, tokenizer,
                                          special, job)
        held_out = _held_out_examples(work_dir / "held_out.npz", held_docs, tokenizer, special,
                                      job)
        model.compile(
            optimizer=make_optimizer(job.train, job.train.steps),
            loss={"mlm": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  "sop": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
            weighted_metrics={"mlm": [keras.metrics.SparseCategoricalAccuracy("accuracy")],
                              "sop": [keras.metrics.SparseCategoricalAccuracy("accuracy")]})
        from albert_tf.train.checkpoint import TrainingState

        state = TrainingState()
        if store.exists():
            state = store.load_state()
            store.restore_last(model, state)
            logger.info("resuming after step %d of %d", _steps_done(state), job.train.steps)
        elif Path(job.model).is_dir():
            restore_heads(model, job.model)
        seconds = _train(model, job, train_examples, held_out, special, store, state, work_dir,
                         verbose)
        save_pretrained(model, tokenizer, work_dir / "model")
    final = state.history[-1] if state.history else {}
    metrics = {
        "job": asdict(job),
        "corpus": {
            "sources": corpus.notes,
            "documents": len(corpus.documents),
            "segments": corpus.segment_count(),
            "train_documents": len(train_docs),
            "held_out_documents": len(held_docs),
            "train_examples": len(train_examples),
            "train_segment_pairs": int(train_examples.sop_weights.sum()),
            "train_tokens": int((train_examples.token_ids != special.pad).sum()),
            "held_out_examples": len(held_out[1]["sop"]),
        },
        "parameters": int(sum(np.prod(w.shape) for w in masked_lm.backbone.weights)),
        "steps": _steps_done(state),
        "train_seconds_this_process": round(seconds, 1),
        "train_seconds_all": round(sum(h.get("seconds", 0) for h in state.history), 1),
        "held_out_mlm_accuracy": final.get("val_mlm_accuracy"),
        "held_out_sop_accuracy": final.get("val_sop_accuracy"),
        "history": state.history,
    }
    write_json(metrics, work_dir / "metrics.json")
    logger.info("held-out MLM accuracy %s, SOP accuracy %s after %d steps",
                metrics["held_out_mlm_accuracy"], metrics["held_out_sop_accuracy"],
                metrics["steps"])
    return metrics


CACHE_FILES = ("tokenizer.model", "examples.npz", "held_out.npz")


def _cache_settings(job: dict) -> dict:
    """What the tokenizer and the example caches depend on."""
    keys = ("corpus", "corpus_seed", "leave_out", "model", "vocab_size", "vocabulary",
            "sequence_length", "held_out_fraction")
    return {**{k: job.get(k) for k in keys},
            "seed": job.get("train", {}).get("seed"),
            "mask_rate": job.get("train", {}).get("mask_rate")}


def _drop_stale_caches(run_dir: Path, job: PretrainJob) -> None:
    """The tokenizer and example caches fit the settings in job.json; when a run in the
    folder asks for other corpus, tokenizer or example settings, they go."""
    import json

    path = run_dir / JOB_FILE
    if not path.is_file():
        return
    try:
        saved = _cache_settings(json.loads(path.read_text()))
    except (ValueError, AttributeError):
        saved = None
    if saved != _cache_settings(json.loads(json.dumps(asdict(job), default=str))):
        for name in CACHE_FILES:
            (run_dir / name).unlink(missing_ok=True)


def _model_and_tokenizer(job: PretrainJob, corpus, run_dir: Path):
    """A new model with a tokenizer trained on the corpus, or a preset and its tokenizer."""
    from albert_tf.models import ALBERT_CONFIGS, load_albert_tokenizer
    from albert_tf.pretrain.model import load_masked_lm, new_masked_lm
    from albert_tf.text.sentencepiece_model import (
        is_character_text,
        train_character_sentencepiece,
        train_sentencepiece,
    )

    if job.model not in ALBERT_CONFIGS:
        return load_masked_lm(job.model)
    path = run_dir / "tokenizer.model"
    if not path.is_file():
        texts = corpus.texts()
        characters = job.vocabulary == "characters" or (
            job.vocabulary == "auto" and is_character_text(texts))
        if characters:
            # Chinese: the vocabulary a character tagger fine-tuned from this model will use.
            logger.info("training a character vocabulary (at most %d pieces)", job.vocab_size)
            train_character_sentencepiece([[text] for text in texts], path,
                                          vocab_size=job.vocab_size, seed=job.train.seed)
        else:
            train_sentencepiece(texts, path, vocab_size=job.vocab_size, seed=job.train.seed)
    tokenizer = load_albert_tokenizer(str(path))
    masked_lm = new_masked_lm(ALBERT_CONFIGS[job.model], tokenizer.vocabulary_size(),
                              max(512, job.sequence_length))
    return masked_lm, tokenizer


def _cached_examples(path: Path, documents, tokenizer, special, job: PretrainJob):
    from albert_tf.pretrain.segment_pairs import PackedExamples, make_examples, tokenize_documents

    if path.is_file():
        return PackedExamples.load(path)
    logger.info("tokenising %d documents", len(documents))
    examples = make_examples(tokenize_documents(documents, tokenizer), special,
                             job.sequence_length, seed=job.train.seed)
    examples.save(path)
    return examples


def _held_out_examples(path: Path, documents, tokenizer, special, job: PretrainJob):
    """Held-out examples with masks drawn once (seeded) and kept: `(x, y, weights)` arrays."""
    import tensorflow as tf

    from albert_tf.pretrain.segment_pairs import make_dataset, make_examples, tokenize_documents
    from albert_tf.train.checkpoint import atomic_save_npz

    if path.is_file():
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
    else:
        examples = make_examples(tokenize_documents(documents, tokenizer), special,
                                 job.sequence_length, seed=job.train.seed)
        tf.random.set_seed(job.train.seed + 1)
        batches = list(make_dataset(examples, special, 256, shuffle=False,
                                    mask_rate=job.train.mask_rate).as_numpy_iterator())
        arrays = {}
        for part, name in ((0, "x"), (1, "y"), (2, "w")):
            for key in batches[0][part]:
                arrays[f"{name}.{key}"] = np.concatenate([b[part][key] for b in batches])
        atomic_save_npz(path, **arrays)
    parts = [{k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(p + ".")}
             for p in ("x", "y", "w")]
    return tuple(parts)


def _steps_done(state) -> int:
    return int(state.history[-1]["step"]) if state.history else 0


def _train(model, job: PretrainJob, examples, held_out, special, store, state, run_dir: Path,
           verbose) -> float:
    """Train in chunks of `checkpoint_every` steps; after each, score held-out and checkpoint."""
    import keras
    import tensorflow as tf

    from albert_tf.pretrain.segment_pairs import make_dataset
    from albert_tf.train.distributed import evaluate, fit

    config = job.train
    held_out_batches = tf.data.Dataset.from_tensor_slices(held_out).batch(256)
    tensorboard = keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), write_graph=False)
    started = time.perf_counter()
    done = _steps_done(state)
    while done < config.steps:
        steps = min(config.checkpoint_every, config.steps - done)
        # One seeded stream, reshuffled every pass; each chunk skips the batches trained
        # before it (so does a resumed run). No iterator outlives its chunk.
        data = make_dataset(examples, special, config.batch_size, shuffle=True, seed=config.seed,
                            repeat=True, skip_batches=done, mask_rate=config.mask_rate)
        chunk_started = time.perf_counter()
        epoch = len(state.history)
        fit(model, data.take(steps), epochs=epoch + 1, initial_epoch=epoch, steps_per_epoch=steps,
            callbacks=[tensorboard], verbose=verbose)
        seconds = time.perf_counter() - chunk_started
        scores = evaluate(model, held_out_batches)
        done += steps
        entry = {"step": done, "seconds": round(seconds, 2),
                 "examples_per_second": round(steps * config.batch_size / seconds, 2),
                 **{f"val_{k}": round(float(v), 4) for k, v in scores.items()}}
        state.history.append(entry)
        state.epochs_done = len(state.history)
        store.save(model, state, improved=False)
        logger.info("step %d/%d: held-out MLM accuracy %.4f, SOP accuracy %.4f (%.0f s)",
                    done, config.steps, entry.get("val_mlm_accuracy", float("nan")),
                    entry.get("val_sop_accuracy", float("nan")), seconds)
    return time.perf_counter() - started
