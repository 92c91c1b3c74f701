"""Fine-tune a token classifier, and the whole tagging job behind `albert-tf tag finetune`.

`finetune_tagger` is `albert_tf.train.finetune.finetune` with the one thing token
classification needs changed: accuracy is a *weighted* metric, so only each word's first
sub-token counts (the classification loop's unweighted accuracy would also score padding and
continuation sub-tokens). Optimizer, schedule, epoch checkpoints, resume, early stopping and
TensorBoard logs are the classification loop's own pieces.

A job's run folder:

    run_dir/
      tokenizer.model   SentencePiece model trained on the training split (named configs)
      checkpoints/      per-epoch checkpoints (resume)
      logs/             TensorBoard
      model/            the token classifier (keras-hub preset format) with tag_names.json
      metrics.json      dev and test tagging reports, training history
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from pathlib import Path

from albert_tf.data.splits import Splits
from albert_tf.errors import UserError
from albert_tf.tagging.config import TagFinetuneJob, TaggingDataSpec  # also importable here
from albert_tf.tagging.examples import TaggedSentences, limit, load_tagged, split_tagged
from albert_tf.train.config import FinetuneConfig

logger = logging.getLogger(__name__)


def load_tagging_splits(spec: TaggingDataSpec, tag_names=None) -> Splits:
    """The train / dev / test tagged sentences of `spec`, sharing one tag id order.

    Args:
        spec: `TaggingDataSpec`.
        tag_names: tag names in id order (e.g. a trained tagger's); default the data's.

    Returns:
        `Splits` of `TaggedSentences`, the type classification loaders return too.
    """
    columns = dict(word_column=spec.word_column, tag_column=spec.tag_column,
                   separator=spec.separator)
    data = load_tagged(spec.source, tag_names=tag_names, **columns)
    given = {name: load_tagged(path, tag_names=data.tag_names, **columns)
             for name, path in (("dev", spec.dev_file), ("test", spec.test_file)) if path}
    if len(given) == 2:
        train, dev, test = data, given["dev"], given["test"]
    else:
        train, dev, test = split_tagged(data, seed=spec.seed)
        if "dev" in given:  # carve test only: the carved dev joins the training split
            train, dev = _merge(train, dev), given["dev"]
        elif "test" in given:
            train, test = _merge(train, test), given["test"]
    return Splits(limit(train, spec.train_limit), limit(dev, spec.dev_limit),
                  limit(test, spec.test_limit))


def _merge(a: TaggedSentences, b: TaggedSentences) -> TaggedSentences:
    return TaggedSentences(a.words + b.words, a.tags + b.tags, a.tag_names, a.source)


def finetune_tagger(tagger, train: TaggedSentences, dev: TaggedSentences, config: FinetuneConfig,
                    run_dir: str | os.PathLike, resume: bool = False, verbose="auto") -> dict:
    """Fine-tune `tagger` in place; it ends with its best dev weights.

    Args:
        tagger: an `AlbertTokenClassifier` with its preprocessor.
        train: training sentences.
        dev: dev sentences (early stopping and the best epoch, by first-sub-token accuracy).
        config: `FinetuneConfig`.
        run_dir: folder for `checkpoints/` and TensorBoard `logs/`.
        resume: continue from the last checkpoint in `run_dir`.
        verbose: Keras progress bars ("auto", 0, 1 or 2).

    Returns:
        `{"history", "epochs_done", "best_epoch", "best_dev_accuracy", "stopped_early",
        "config"}` like the classification loop.
    """
    import keras

    from albert_tf.models import detached_preprocessor
    from albert_tf.tagging.pipeline import make_tagging_dataset
    from albert_tf.train.checkpoint import CheckpointStore, TrainingState
    from albert_tf.train.finetune import EpochCheckpoint, make_optimizer

    run_dir = Path(run_dir)
    store = CheckpointStore(run_dir)
    if store.exists() and not resume:
        raise UserError(f"{run_dir} already holds a checkpoint (epoch "
                        f"{store.load_state().epochs_done}): pass --resume to continue it, "
                        "or choose another run folder")
    train_ds = make_tagging_dataset(train, tagger.preprocessor, config.batch_size, shuffle=True,
                                    seed=config.seed)
    dev_ds = make_tagging_dataset(dev, tagger.preprocessor, config.batch_size)
    total_steps = math.ceil(len(train) / config.batch_size) * config.epochs
    tagger.compile(
        optimizer=make_optimizer(config, total_steps),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=config.jit_compile)
    state = TrainingState()
    if store.exists():
        state = store.load_state()
        store.restore_last(tagger, state)
        logger.info("resuming after epoch %d of %d", state.epochs_done, config.epochs)
    if state.epochs_done < config.epochs and not state.stopped_early:
        callbacks = [EpochCheckpoint(store, state, config.patience, len(train)),
                     keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), write_graph=False)]
        with detached_preprocessor(tagger):
            tagger.fit(train_ds, validation_data=dev_ds, epochs=config.epochs, shuffle=False,
                       initial_epoch=state.epochs_done, callbacks=callbacks, verbose=verbose)
    store.restore_best(tagger, state)
    return {"history": state.history, "epochs_done": state.epochs_done,
            "best_epoch": state.best_epoch, "best_dev_accuracy": state.best_score,
            "stopped_early": state.stopped_early, "config": dataclasses.asdict(config)}


def _tokenizer_for(job: TagFinetuneJob, train: TaggedSentences, run_dir: Path):
    from albert_tf.models import ALBERT_CONFIGS
    from albert_tf.text.sentencepiece_model import (
        train_character_sentencepiece,
        train_sentencepiece,
        words_are_characters,
    )

    if not (isinstance(job.model, dict) or job.model in ALBERT_CONFIGS):
        return None
    if job.tokenizer:
        return job.tokenizer
    path = run_dir / "tokenizer.model"
    if not path.is_file():
        texts = [" ".join(words) for words in train.words]
        if words_are_characters(train.words):
            # Character-level data (Chinese NER): one piece per character, no `▁` before each.
            train_character_sentencepiece(train.words, path, vocab_size=job.vocab_size,
                                          seed=job.data.seed)
        else:
            train_sentencepiece(texts, path, vocab_size=job.vocab_size, seed=job.data.seed)
    return str(path)


def run_tag_finetune_job(job: TagFinetuneJob, run_dir: str | os.PathLike, resume: bool = False,
                         verbose="auto") -> dict:
    """Run `job` into `run_dir`; returns its metrics (also written to metrics.json)."""
    train, dev, test = load_tagging_splits(job.data)  # bad input fails before TensorFlow
    import keras

    from albert_tf.json_files import write_json
    from albert_tf.models import count_parameters
    from albert_tf.tagging.model import build_token_classifier, save_token_classifier
    from albert_tf.tagging.pipeline import evaluate_tagger
    from albert_tf.train.strategy import precision_scope

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(job.train.seed)  # before tokenizers exist (see FinetuneConfig)
    tag_names = train.tag_names
    logger.info("data: %d train, %d dev, %d test sentences, %d tags",
                len(train), len(dev), len(test), len(tag_names))
    # Scoped: a mixed policy left set would reach whatever the process loads next.
    with precision_scope(job.precision):
        tagger = build_token_classifier(job.model, len(tag_names),
                                        tokenizer=_tokenizer_for(job, train, run_dir),
                                        sequence_length=job.sequence_length)
        started = time.perf_counter()
        summary = finetune_tagger(tagger, train, dev, job.train, run_dir, resume=resume,
                                  verbose=verbose)
        seconds = time.perf_counter() - started
        save_token_classifier(tagger, run_dir / "model", tag_names, overwrite=True)
        majority = train.majority_tag()
        metrics = {
            "job": dataclasses.asdict(job),
            "sentences": {"train": len(train), "dev": len(dev), "test": len(test)},
            "tag_names": tag_names,
            **count_parameters(tagger),
            "train_seconds_this_process": round(seconds, 1),
            "training": summary,
            "dev": evaluate_tagger(tagger, dev, majority_tag=majority),
            "test": evaluate_tagger(tagger, test, majority_tag=majority),
        }
    write_json(metrics, run_dir / "metrics.json")
    logger.info("test token accuracy %.4f (majority tag %.4f)", metrics["test"]["token_accuracy"],
                metrics["test"]["majority_tag_accuracy"])
    return metrics
