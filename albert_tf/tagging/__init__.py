"""Token classification (POS, NER) with ALBERT, through the same compression chain.

* `AlbertTokenClassifier`: ALBERT backbone + per-token head (a keras-hub `Task`).
* `AlbertTokenClassifierPreprocessor`: word-to-sub-token label alignment (first sub-token
  carries the word's tag; the rest are masked out of loss and metrics).
* `load_tagged("brown-corpus" | CoNLL path)`, `read_conll`: data.
* `tagging_report`, `entity_scores`, `bio_entities`: token accuracy, seqeval-style entity F1.
* `load_tagging_splits` (`albert_tf.data.tagging_splits`), `run_tag_finetune_job`
  (`albert_tf.train.job`), `predict_words`, `evaluate_tagger` (`albert_tf.text.token_pipeline`).
* Fine-tuning, distillation, pruning and export are the text classifiers' own, for taggers
  too: `albert_tf.finetune` / `albert_tf.distill` (`TokenDistillConfig` is `DistillConfig`
  with the tagging defaults), `albert_tf.compress.prune.prune`, and
  `albert_tf.deploy.export_tflite` (per-token outputs) / `export_saved_model` (raw text ->
  word tags).

Modules that need TensorFlow are imported lazily, so the CLI parses arguments quickly.
"""

from albert_tf.lazy_exports import lazy_getattr

_EXPORTS = {
    "read_conll": "albert_tf.tagging.conll",
    "TaggedSentences": "albert_tf.tagging.examples",
    "load_tagged": "albert_tf.tagging.examples",
    "split_tagged": "albert_tf.tagging.examples",
    "from_string_tags": "albert_tf.tagging.examples",
    "bio_entities": "albert_tf.tagging.metrics",
    "entity_scores": "albert_tf.tagging.metrics",
    "token_accuracy": "albert_tf.tagging.metrics",
    "tagging_report": "albert_tf.tagging.metrics",
    "AlbertTokenClassifierPreprocessor": "albert_tf.tagging.preprocessor",
    "AlbertTokenClassifier": "albert_tf.tagging.model",
    "build_token_classifier": "albert_tf.tagging.model",
    "save_token_classifier": "albert_tf.tagging.model",
    "load_token_classifier": "albert_tf.tagging.model",
    "load_tag_names": "albert_tf.tagging.model",
    "make_tagging_dataset": "albert_tf.text.token_pipeline",
    "predict_words": "albert_tf.text.token_pipeline",
    "evaluate_tagger": "albert_tf.text.token_pipeline",
    "TaggingDataSpec": "albert_tf.tagging.config",
    "TagFinetuneJob": "albert_tf.tagging.config",
    "load_tagging_splits": "albert_tf.data.tagging_splits",
    "run_tag_finetune_job": "albert_tf.train.job",
    "TokenDistillConfig": "albert_tf.tagging.config",
    "split_words": "albert_tf.deploy.tagging_graph",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
