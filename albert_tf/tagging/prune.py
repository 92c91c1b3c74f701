"""Prune a token classifier with the pruning package's transforms.

Structured pruning (heads, FFN neurons, depth) runs on the backbone (`structured_prune` takes an
`AlbertBackbone`); the per-token head is then put back on the smaller backbone with its weights.
Unstructured magnitude pruning wraps the whole tagger (`prune_low_magnitude`), follows its
schedule during fine-tuning on aligned `(x, y, weights)` batches, and is stripped at the end.
"""

from __future__ import annotations

import logging

from albert_tf.compress.prune import (
    StructuredPruneConfig,
    fine_tune,
    strip_pruning,
    structured_prune,
)
from albert_tf.compress.prune.transform import count_nonzero, start_unstructured
from albert_tf.errors import UserError
from albert_tf.tagging.config import TagPruneConfig
from albert_tf.tagging.examples import TaggedSentences
from albert_tf.tagging.model import token_classifier_for

logger = logging.getLogger(__name__)


def structured_prune_tagger(tagger, config: StructuredPruneConfig):
    """A smaller token classifier: the backbone pruned, the head weights kept.

    Returns:
        `(new tagger, report)`; the input tagger is untouched.
    """
    backbone, report = structured_prune(tagger.backbone, config)
    pruned = token_classifier_for(backbone, tagger.num_classes, tagger.preprocessor,
                                  tagger.dropout)
    pruned.output_dense.set_weights(tagger.output_dense.get_weights())
    report["parameters_before"] = int(tagger.count_params())
    report["parameters_after"] = int(pruned.count_params())
    return pruned, report


def prune_tagger(tagger, config: TagPruneConfig, train: TaggedSentences | None = None):
    """Run the pruning stage on a token classifier.

    Args:
        tagger: an `AlbertTokenClassifier` with its preprocessor.
        config: `TagPruneConfig`.
        train: training sentences, needed when `fine_tune_steps > 0`.

    Returns:
        `(pruned tagger, metrics)`: a new model with structured pruning, otherwise the input
        pruned in place.
    """
    from albert_tf.tagging.pipeline import make_tagging_dataset

    config.validate()
    if config.fine_tune_steps and train is None:
        raise UserError("fine-tuning after pruning needs training sentences")
    metrics = {"parameters_before": int(tagger.count_params()),
               "nonzero_parameters_before": count_nonzero(tagger)}
    if config.structured is not None:
        tagger, metrics["structured"] = structured_prune_tagger(tagger, config.structured)
    callbacks = []
    unstructured = config.unstructured
    if unstructured is not None:
        callbacks, _ = start_unstructured(tagger, unstructured, config.fine_tune_steps)
    if config.fine_tune_steps:
        data = make_tagging_dataset(train, tagger.preprocessor, config.batch_size, shuffle=True)
        logger.info("fine-tuning %d steps after pruning", config.fine_tune_steps)
        # fine_tune's accuracy metric is unweighted (it would count padding): keep the loss.
        result = fine_tune(tagger, data, config.fine_tune_steps, config.learning_rate, callbacks)
        metrics["fine_tune_loss"] = result["loss"]
    if unstructured is not None:
        strip_pruning(tagger)
    metrics["parameters_after"] = int(tagger.count_params())
    metrics["nonzero_parameters_after"] = count_nonzero(tagger)
    return tagger, metrics
