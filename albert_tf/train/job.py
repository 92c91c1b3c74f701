"""The fine-tuning job: data source -> splits -> tokenizer -> model -> fine-tune -> evaluate.

This is what `albert-tf finetune` (`run_finetune_job`), `albert-tf tag finetune`
(`run_tag_finetune_job`) and `make demo` run, and what the recipe runners' fine-tuning stages
call; both jobs train with the one loop through their task adapter. Everything a job produces
goes to one run folder:

    run_dir/
      tokenizer.model     SentencePiece model trained on the training split (named configs)
      checkpoints/        per-epoch checkpoints (resume)
      logs/               TensorBoard
      model/              the fine-tuned classifier, keras-hub preset format, with its
                          label_names.json (a tagger: tag_names.json)
      metrics.json        dev and test metrics, training history, throughput
"""

import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

from albert_tf.data.spec import DataSpec, load_all, load_splits  # noqa: F401  (their old home)
from albert_tf.data.tagging_splits import load_tagging_splits
from albert_tf.tagging.config import TagFinetuneJob
from albert_tf.train.checkpoint import CheckpointStore, check_resume_settings
from albert_tf.train.job_config import FinetuneJob  # also importable from here

logger = logging.getLogger(__name__)


def _piece_count(path: Path) -> int:
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(path)).get_piece_size()


JOB_FILE = "job.json"
# What may change between a killed run and its resume: how long it goes on, and on
# how many devices or machines.
RESUMABLE_CHANGES = {"train.epochs", "train.patience", "strategy"}


def _tokenizer_for(job, adapter, train, run_dir: Path):
    """The job's SentencePiece model: given, already trained in this run, or trained now on
    the training split (by the task: a tagger's words may be characters).

    Args:
        job: `FinetuneJob` or `TagFinetuneJob`.
        adapter: the job's task adapter.
        train: the training split.
        run_dir: the job's run folder.
    """
    from albert_tf.models import ALBERT_CONFIGS

    if not (isinstance(job.model, dict) or job.model in ALBERT_CONFIGS):
        return None  # presets and saved models bring their own tokenizer
    if job.tokenizer:
        return job.tokenizer
    path = run_dir / "tokenizer.model"
    if path.is_file() and _piece_count(path) != job.vocab_size:
        # Left by an earlier run with another --vocab-size (or a character vocabulary, capped
        # at the characters seen): trained again, the same for the same data and seed.
        logger.info("%s has %d pieces, the job asks for %d: training a new one", path,
                    _piece_count(path), job.vocab_size)
        path.unlink()
    if not path.is_file():
        adapter.train_tokenizer(train, path, job.vocab_size, job.data.seed)
    return str(path)


def run_finetune_job(job: FinetuneJob, run_dir: str | os.PathLike, resume: bool = False,
                     verbose="auto") -> dict:
    """Run `job` into `run_dir` and return its metrics (also written to metrics.json)."""
    # Data first: bad input is reported before TensorFlow starts.
    train, dev, test = load_splits(job.data)

    import keras

    from albert_tf.classification_metrics import evaluate_classifier
    from albert_tf.json_files import write_json
    from albert_tf.models import count_parameters
    from albert_tf.tasks.classification import ClassificationAdapter
    from albert_tf.text import make_dataset
    from albert_tf.train.distributed import work_folder
    from albert_tf.train.finetune import finetune
    from albert_tf.train.strategy import make_strategy, precision_scope

    adapter = ClassificationAdapter()
    run_dir = Path(run_dir)
    strategy = make_strategy(job.strategy)
    # The chief writes into run_dir; another worker into a folder of its own.
    out_dir = work_folder(run_dir, strategy)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Only a run with a checkpoint has settings to keep to.
    check_resume_settings(out_dir / JOB_FILE, asdict(job),
                          resume and CheckpointStore(run_dir).exists(), RESUMABLE_CHANGES)
    # The seed clears TensorFlow's kernel cache, so it must be set before tokenisers exist.
    keras.utils.set_random_seed(job.train.seed)
    # Scoped: a mixed policy left set would reach whatever the process loads next.
    with precision_scope(job.precision):
        label_names = list(train.label_names)
        logger.info("data: %d train, %d dev, %d test examples, labels %s",
                    len(train.texts), len(dev.texts), len(test.texts), label_names)
        tokenizer = _tokenizer_for(job, adapter, train, out_dir)
        with strategy.scope():
            model = adapter.build(job.model, len(label_names), tokenizer, job.sequence_length)
        preprocessor = model.preprocessor
        batch = job.train.batch_size
        train_ds = make_dataset(train, preprocessor, batch, shuffle=True, seed=job.train.seed)
        dev_ds = make_dataset(dev, preprocessor, batch)
        test_ds = make_dataset(test, preprocessor, batch)

        started = time.perf_counter()
        summary = finetune(model, train_ds, dev_ds, job.train, run_dir,
                           train_examples=len(train.texts), resume=resume, verbose=verbose)
        train_seconds = time.perf_counter() - started
        adapter.save(model, out_dir / "model", label_names, overwrite=True)

        dev_metrics = evaluate_classifier(model, dev_ds, dev.labels, label_names)
        test_metrics = evaluate_classifier(model, test_ds, test.labels, label_names)
        # Steady-state throughput: the first epoch also traces and compiles the step function.
        rates = [e["train_examples_per_second"] for e in summary["history"]]
        steady = rates[1:] or rates
        metrics = {
            "job": asdict(job),
            "examples": {"train": len(train.texts), "dev": len(dev.texts),
                         "test": len(test.texts)},
            **count_parameters(model),
            "train_seconds_this_process": round(train_seconds, 1),
            "train_examples_per_second": (round(sorted(steady)[len(steady) // 2], 2)
                                          if steady else None),
            "training": summary,
            "dev": dev_metrics,
            "test": test_metrics,
        }
    write_json(metrics, out_dir / "metrics.json")
    logger.info("test accuracy %.4f, macro-F1 %.4f", test_metrics["accuracy"],
                test_metrics["macro_f1"])
    return metrics


def run_tag_finetune_job(job: TagFinetuneJob, run_dir: str | os.PathLike, resume: bool = False,
                         verbose="auto") -> dict:
    """Run the tagging `job` into `run_dir` (the layout above, `model/` with its
    tag_names.json); returns its metrics (also written to metrics.json)."""
    train, dev, test = load_tagging_splits(job.data)  # bad input fails before TensorFlow
    import keras

    from albert_tf.data.splits import Splits
    from albert_tf.json_files import write_json
    from albert_tf.models import count_parameters
    from albert_tf.tasks.token_classification import TokenClassificationAdapter
    from albert_tf.text.token_pipeline import evaluate_tagger
    from albert_tf.train.strategy import precision_scope

    adapter = TokenClassificationAdapter()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(job.train.seed)  # before tokenizers exist (see FinetuneConfig)
    tag_names = train.tag_names
    logger.info("data: %d train, %d dev, %d test sentences, %d tags",
                len(train), len(dev), len(test), len(tag_names))
    # Scoped: a mixed policy left set would reach whatever the process loads next.
    with precision_scope(job.precision):
        tagger = adapter.build(job.model, len(tag_names),
                               _tokenizer_for(job, adapter, train, run_dir), job.sequence_length)
        started = time.perf_counter()
        summary = adapter.finetune(tagger, Splits(train, dev, test), job.train, run_dir,
                                   resume, verbose)
        seconds = time.perf_counter() - started
        adapter.save(tagger, run_dir / "model", tag_names, overwrite=True)
        majority = train.majority_tag()
        metrics = {
            "job": asdict(job),
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


def format_result_table(metrics: dict) -> str:
    """A plain-text table of a job's results, for the CLI."""
    rows = [
        ("model", metrics["job"]["model"]),
        ("data", f"{metrics['job']['data']['source']} (train {metrics['examples']['train']}, "
                 f"dev {metrics['examples']['dev']}, test {metrics['examples']['test']})"),
        ("parameters", f"{metrics['parameters']:,} "
                       f"({metrics['parameters_without_token_embedding']:,} without token "
                       "embeddings)"),
        ("epochs", f"{metrics['training']['epochs_done']} (best {metrics['training']['best_epoch']})"),
        ("train examples/s", f"{metrics['train_examples_per_second']}"),
        ("dev accuracy", f"{metrics['dev']['accuracy']:.4f}"),
        ("test accuracy", f"{metrics['test']['accuracy']:.4f}"),
        ("test macro-F1", f"{metrics['test']['macro_f1']:.4f}"),
        ("test loss", f"{metrics['test']['loss']:.4f}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    names = metrics["test"]["label_names"]
    lines.append("confusion (rows true, cols predicted): " + json.dumps(
        dict(zip(names, metrics["test"]["confusion_matrix"]))))
    return "\n".join(lines)
