"""Unstructured magnitude pruning for Keras 3 models: `prune_low_magnitude`, `strip_pruning`.

tfmot wraps every prunable layer in a `PruneLowMagnitude` wrapper, which only works on
tf_keras (Keras 2) models. keras-hub models are nested functional graphs whose layers cannot be
swapped for wrappers without rebuilding them, so here the model is left as it is and a
`PruningState` is attached to it instead: one non-trainable 0/1 mask variable per pruned
weight, the schedule and the pruning step. The `UpdatePruningStep` callback advances the step,
recomputes masks when the schedule says so and writes `weight * mask` back into each pruned
weight after every optimizer step, so the forward pass always sees the pruned weights. This is
what tfmot's wrappers do too (they assign `weight * mask` in place); only the bookkeeping lives
outside the layers. `strip_pruning` bakes the zeros in and removes the state, leaving the model
with exactly the variables it had before.

Example:
```python
model = prune_low_magnitude(classifier, PolynomialDecay(0.0, 0.8, begin_step=0,
                                                        end_step=400, frequency=50))
model.fit(train_ds, epochs=2, callbacks=[UpdatePruningStep()])
model = strip_pruning(model)
```
"""

import logging
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from albert_tf.compress.prune.masks import (
    BLOCK_POOLING,
    block_magnitude_mask,
    m_by_n_mask,
    magnitude_mask,
)
from albert_tf.compress.prune.schedules import PruningSchedule
from albert_tf.compress.prune.targets import PrunableWeight, find_prunable_weights
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

# Attribute holding the state on the pruned model; a plain object, so Keras does not track
# (or save) the masks inside it.
STATE_ATTRIBUTE = "_albert_tf_pruning_state"


class PrunedWeight:
    """A prunable weight and its mask variable.

    Args:
        target: the weight to prune.
    """

    def __init__(self, target: PrunableWeight):
        self.target = target
        variable = target.variable
        self.mask = keras.Variable(
            ops.ones(tuple(variable.shape), dtype=variable.dtype), trainable=False,
            dtype=variable.dtype, name=f"{target.path.replace('/', '_')}_pruning_mask")

    def apply(self) -> None:
        """Write `weight * mask` into the weight."""
        self.target.variable.assign(self.target.variable * self.mask)


class PruningState:
    """Masks, schedule and step of a model being pruned (tfmot's wrapper bookkeeping).

    Args:
        weights: the weights to prune.
        pruning_schedule: when to recompute masks and at which sparsity.
        block_size: (rows, columns) of the tiles pruned together; (1, 1) is element-wise.
        block_pooling_type: "AVG" or "MAX", how a tile's magnitudes are summarised.
        sparsity_m_by_n: (m, n) to zero m of every n consecutive inputs instead of following
            the schedule's sparsity (masks are then computed once, at the first step).
    """

    def __init__(self, weights: Sequence[PrunableWeight], pruning_schedule: PruningSchedule,
                 block_size: tuple[int, int] = (1, 1), block_pooling_type: str = "AVG",
                 sparsity_m_by_n: tuple[int, int] | None = None):
        self.pruned = [PrunedWeight(w) for w in weights]
        self.schedule = pruning_schedule
        self.block_size = tuple(int(b) for b in block_size)
        self.block_pooling_type = block_pooling_type
        self.sparsity_m_by_n = tuple(sparsity_m_by_n) if sparsity_m_by_n else None
        # Same convention as tfmot: 0 before training, 1 during the first training batch.
        self.step = 0

    def _mask_for(self, pruned: PrunedWeight, sparsity: float):
        variable = pruned.target.variable
        if self.sparsity_m_by_n is None and self.block_size == (1, 1):
            return magnitude_mask(variable, sparsity)
        matrix = ops.reshape(variable, pruned.target.matrix_shape)
        if self.sparsity_m_by_n is not None:
            mask = m_by_n_mask(matrix, *self.sparsity_m_by_n)
        else:
            mask = block_magnitude_mask(matrix, sparsity, self.block_size,
                                        self.block_pooling_type)
        return ops.reshape(mask, tuple(variable.shape))

    def update_masks(self, sparsity: float | None = None) -> None:
        """Recompute every mask from the current magnitudes and apply it.

        Args:
            sparsity: target sparsity; defaults to the schedule's value at the current step
                (ignored with `sparsity_m_by_n`).
        """
        if sparsity is None:
            sparsity = self.schedule.sparsity_at(self.step)
        for pruned in self.pruned:
            pruned.mask.assign(self._mask_for(pruned, sparsity))
            pruned.apply()
        logger.debug("pruning step %d: masks updated to sparsity %.4f", self.step, sparsity)

    def apply_masks(self) -> None:
        """Zero the pruned entries again (after an optimizer step moved them)."""
        for pruned in self.pruned:
            pruned.apply()

    def advance(self) -> None:
        """Begin the next training step: update masks if this is a pruning step."""
        self.step += 1
        if self.sparsity_m_by_n is not None:
            if self.step == 1:
                self.update_masks()
        elif self.schedule.should_prune(self.step):
            self.update_masks()

    def mask_sparsity(self) -> dict[str, float]:
        """Fraction of zeros in each mask, by weight path."""
        return {p.target.path: 1.0 - float(np.mean(p.mask.numpy())) for p in self.pruned}


def _validate_options(block_size, block_pooling_type, sparsity_m_by_n) -> None:
    if len(tuple(block_size)) != 2 or min(int(b) for b in block_size) < 1:
        raise UserError(f"block_size must be two integers >= 1. Received: {block_size}")
    if block_pooling_type not in BLOCK_POOLING:
        raise UserError(f"block_pooling_type must be one of {BLOCK_POOLING}. "
                        f"Received: {block_pooling_type!r}")
    if sparsity_m_by_n is not None:
        if len(tuple(sparsity_m_by_n)) != 2:
            raise UserError(f"sparsity_m_by_n must be (m, n). Received: {sparsity_m_by_n}")
        m, n = (int(v) for v in sparsity_m_by_n)
        if not 0 < m < n:
            raise UserError(f"sparsity_m_by_n needs 0 < m < n. Received: ({m}, {n})")
        if tuple(int(b) for b in block_size) != (1, 1):
            raise UserError("use either block_size or sparsity_m_by_n, not both")


def prune_low_magnitude(model, pruning_schedule: PruningSchedule,
                        block_size: tuple[int, int] = (1, 1), block_pooling_type: str = "AVG",
                        sparsity_m_by_n: tuple[int, int] | None = None,
                        include: Sequence[str] | None = None,
                        exclude: Sequence[str] | None = None):
    """Prepare a Keras 3 model for magnitude pruning during training.

    The model is returned as it is (same object, same variables, same outputs) with a
    `PruningState` attached; train it with the `UpdatePruningStep` callback and call
    `strip_pruning` at the end. Dense and EinsumDense kernels and Embedding tables are pruned,
    each variable once, including the kernels ALBERT shares across repetitions.

    Args:
        model: a built Keras 3 model, e.g. a keras-hub `AlbertTextClassifier`.
        pruning_schedule: `ConstantSparsity` or `PolynomialDecay`.
        block_size: (rows, columns) tiles pruned together, (1, 1) for element-wise.
        block_pooling_type: "AVG" or "MAX".
        sparsity_m_by_n: e.g. (2, 4): zero 2 of every 4 consecutive inputs of each kernel
            (Dense and EinsumDense only; embeddings stay dense).
        include: regular expressions on weight paths; only matching weights are pruned.
        exclude: regular expressions on weight paths; matching weights stay dense
            (e.g. `["logits"]` for the classification head).

    Returns:
        The model, ready for `fit(..., callbacks=[UpdatePruningStep()])`.
    """
    if not isinstance(pruning_schedule, PruningSchedule):
        raise UserError("pruning_schedule must be a ConstantSparsity or PolynomialDecay. "
                        f"Received: {type(pruning_schedule).__name__}")
    _validate_options(block_size, block_pooling_type, sparsity_m_by_n)
    if getattr(model, STATE_ATTRIBUTE, None) is not None:
        raise UserError("this model is already being pruned: call strip_pruning first")
    if not model.built:
        raise UserError("the model must be built (called once, or created with an input "
                        "shape) before pruning")
    kinds = ("Dense", "EinsumDense") if sparsity_m_by_n else ("Dense", "EinsumDense",
                                                               "Embedding")
    weights = find_prunable_weights(model, include=include, exclude=exclude, layer_kinds=kinds)
    if not weights:
        raise UserError("no prunable weights found (Dense / EinsumDense kernels, Embedding "
                        "tables) after include/exclude filters")
    state = PruningState(weights, pruning_schedule, block_size, block_pooling_type,
                         sparsity_m_by_n)
    setattr(model, STATE_ATTRIBUTE, state)
    logger.info("pruning %d weights (%d parameters)", len(weights), sum(w.size for w in weights))
    return model


def pruning_states(model) -> list[PruningState]:
    """The pruning states on `model` and on the models nested in it (a distiller's student).

    Args:
        model: any Keras model or layer.
    """
    states = []
    for layer in model._flatten_layers(include_self=True, recursive=True):
        state = getattr(layer, STATE_ATTRIBUTE, None)
        if state is not None and all(state is not s for s in states):
            states.append(state)
    return states


def strip_pruning(model):
    """Bake the masks into the weights and drop the pruning state.

    Args:
        model: a model returned by `prune_low_magnitude` (a model without pruning state is
            returned unchanged).

    Returns:
        The same model object: plain Keras layers, the zeros in its weights, no mask variables.
    """
    for layer in model._flatten_layers(include_self=True, recursive=True):
        state = getattr(layer, STATE_ATTRIBUTE, None)
        if state is not None:
            state.apply_masks()
            delattr(layer, STATE_ATTRIBUTE)
    return model


def zero_fraction(variable) -> float:
    """Fraction of exact zeros in a variable or tensor.

    Args:
        variable: any tensor-like value.
    """
    values = variable.numpy() if isinstance(variable, keras.Variable) else variable
    return float(np.mean(ops.convert_to_numpy(values) == 0))


def weight_sparsity(model, include: Sequence[str] | None = None,
                    exclude: Sequence[str] | None = None) -> dict[str, float]:
    """Fraction of exact zeros in each prunable weight of any model, by weight path.

    Args:
        model: a built Keras model (pruned or not).
        include: regular expressions on weight paths to report.
        exclude: regular expressions on weight paths to leave out.
    """
    return {w.path: zero_fraction(w.variable)
            for w in find_prunable_weights(model, include=include, exclude=exclude)}
