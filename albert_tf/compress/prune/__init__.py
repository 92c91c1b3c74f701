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

from albert_tf.compress.prune.callbacks import UpdatePruningStep
from albert_tf.compress.prune.magnitude import (
    PruningState,
    prune_low_magnitude,
    pruning_states,
    strip_pruning,
    weight_sparsity,
)
from albert_tf.compress.prune.schedules import (
    ConstantSparsity,
    PolynomialDecay,
    PruningSchedule,
    deserialize_schedule,
)
from albert_tf.compress.prune.structured import (
    StructuredPlan,
    StructuredPruneConfig,
    apply_structured_plan,
    plan_structured_pruning,
    structured_prune,
)
from albert_tf.compress.prune.targets import PrunableWeight, find_prunable_weights
from albert_tf.compress.prune.transform import (
    PruneConfig,
    UnstructuredPruneConfig,
    fine_tune,
    prune,
)

__all__ = [
    "ConstantSparsity", "PolynomialDecay", "PrunableWeight", "PruneConfig", "PruningSchedule",
    "PruningState", "StructuredPlan", "StructuredPruneConfig", "UnstructuredPruneConfig",
    "UpdatePruningStep", "apply_structured_plan", "deserialize_schedule",
    "find_prunable_weights", "fine_tune", "plan_structured_pruning", "prune",
    "prune_low_magnitude", "pruning_states", "strip_pruning", "structured_prune",
    "weight_sparsity",
]
