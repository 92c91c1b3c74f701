"""Pruning for Keras 3 models, with tensorflow-model-optimization's vocabulary.

Unstructured (masks, same size, sparse weights that compress well):
    `prune_low_magnitude(model, ConstantSparsity(...) | PolynomialDecay(...))`, train with the
    `UpdatePruningStep()` callback, then `strip_pruning(model)`.
Structured (a really smaller, faster ALBERT):
    `structured_prune(model, StructuredPruneConfig(heads_fraction=..., ffn_fraction=...,
    depth=...))`.
The stage as a whole (what the CLI and recipes call):
    `prune(model, PruneConfig(structured=..., unstructured=..., fine_tune_steps=...), data)`.
"""

from albert_tf.lazy_exports import lazy_getattr

# Loaded on first use: the settings modules (`config`) stay free of TensorFlow, and the CLI
# reads them to build its flags.
_EXPORTS = {
    "ConstantSparsity": "albert_tf.compress.prune.schedules",
    "PolynomialDecay": "albert_tf.compress.prune.schedules",
    "PrunableWeight": "albert_tf.compress.prune.targets",
    "PruneConfig": "albert_tf.compress.prune.config",
    "PruningSchedule": "albert_tf.compress.prune.schedules",
    "PruningState": "albert_tf.compress.prune.magnitude",
    "StructuredPlan": "albert_tf.compress.prune.structured",
    "StructuredPruneConfig": "albert_tf.compress.prune.config",
    "UnstructuredPruneConfig": "albert_tf.compress.prune.config",
    "UpdatePruningStep": "albert_tf.compress.prune.callbacks",
    "apply_structured_plan": "albert_tf.compress.prune.structured",
    "deserialize_schedule": "albert_tf.compress.prune.schedules",
    "find_prunable_weights": "albert_tf.compress.prune.targets",
    "fine_tune": "albert_tf.compress.prune.transform",
    "plan_structured_pruning": "albert_tf.compress.prune.structured",
    "prune": "albert_tf.compress.prune.transform",
    "prune_low_magnitude": "albert_tf.compress.prune.magnitude",
    "pruning_states": "albert_tf.compress.prune.magnitude",
    "strip_pruning": "albert_tf.compress.prune.magnitude",
    "structured_prune": "albert_tf.compress.prune.structured",
    "weight_sparsity": "albert_tf.compress.prune.magnitude",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
