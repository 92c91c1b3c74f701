"""Annealed cross-layer sharing: from distinct layers (the teacher itself) to tied ALBERT groups.

Averaging a teacher's layers into one shared layer at initialisation destroys what the teacher
knew (the quickstart's 6-into-1 student started at the majority class). Here the student starts
with distinct layers, one per encoder call (`albertize` with `num_groups == num_layers`, which
is exactly the teacher when no depth is removed), and distillation closes the gap gradually:

* after every optimizer step, each layer of a target group is pulled toward the group's mean,
  `W_l <- mean + r (W_l - mean)`, with `r` chosen so that the deviations' scale follows
  `1 - step / steps` (`SharingAnneal`). Between steps the distillation loss lets the layers
  adapt to the shrinking deviations, and at the last step they are identical;
* `tie_layers` then rebuilds the backbone with one layer per group (the mean, now exact), and
  distillation goes on with the tied student.

A penalty `λ‖W_l - mean‖²` was the first idea; under Adam every weight moves at most about the
learning rate per step, so a few hundred steps at 1e-4 cannot close gaps of ~0.05 whatever λ
is. The proximal pull closes them on schedule.
"""

from __future__ import annotations

import logging

import keras
import numpy as np

from albert_tf.compress.distill.albertize import average_weights
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


def layer_calls(student) -> list:
    """The student's encoder layers in call order, one per call (distinct layers only).

    Raises:
        UserError: the backbone is not an ALBERT with one distinct layer per call.
    """
    backbone = student.backbone
    groups = getattr(backbone, "transformer_layers", None)
    num_layers = getattr(backbone, "num_layers", None)
    if groups is None or num_layers is None or not groups or not isinstance(groups[0], list):
        raise UserError("sharing annealing needs an ALBERT student (keras-hub AlbertBackbone); "
                        f"this student's backbone is {type(backbone).__name__}")
    layers = [layer for group in groups for layer in group]
    if len(layers) != num_layers:
        raise UserError("sharing annealing starts from distinct layers, one per encoder call: "
                        f"make the student with num_groups = num_layers. Received: "
                        f"{len(layers)} distinct layers for {num_layers} calls")
    return layers


def target_groups(num_calls: int, num_groups: int) -> list[list[int]]:
    """Consecutive call indices per target group: `[[0, 1, 2], [3, 4, 5]]` for 6 calls, 2 groups.

    Raises:
        UserError: `num_groups` does not divide `num_calls`.
    """
    if num_groups < 1 or num_calls % num_groups:
        raise UserError(f"share_groups must divide the student's {num_calls} encoder calls. "
                        f"Received: share_groups={num_groups}")
    size = num_calls // num_groups
    return [list(range(g * size, (g + 1) * size)) for g in range(num_groups)]


def sharing_gap(student, num_groups: int) -> float:
    """How far the layers are from tied: `Σ ‖W_l - mean‖² / Σ ‖mean‖²` over the groups' weights
    (0 when every group's layers are identical)."""
    layers = layer_calls(student)
    deviation = norm = 0.0
    for group in target_groups(len(layers), num_groups):
        for tensors in zip(*(layers[i].weights for i in group)):
            values = np.stack([keras.ops.convert_to_numpy(t) for t in tensors]).astype(np.float64)
            mean = values.mean(axis=0)
            deviation += float(np.square(values - mean).sum())
            norm += float(np.square(mean).sum()) * len(group)
    return deviation / max(norm, 1e-30)


class SharingAnneal(keras.callbacks.Callback):
    """Shrink each target group's deviations from its mean to `1 - step / total_steps` of their
    size at step 0, after every optimizer step; identical layers at `total_steps`.

    The step is read from the optimizer, so a resumed run continues the schedule where it was.

    Args:
        student: the student classifier (distinct layers, one per call).
        num_groups: target groups after tying.
        total_steps: optimizer steps over which the deviations go to zero.
        optimizer: the optimizer that trains the student (its `iterations` is the step).
    """

    def __init__(self, student, num_groups: int, total_steps: int, optimizer=None):
        super().__init__()
        layers = layer_calls(student)
        self.groups = [[layers[i] for i in group]
                       for group in target_groups(len(layers), num_groups)]
        self.total_steps = max(int(total_steps), 1)
        self._optimizer = optimizer
        self._last_step = 0

    def _step(self) -> int:
        optimizer = self._optimizer or self.model.optimizer
        return int(keras.ops.convert_to_numpy(optimizer.iterations))

    def scale(self, step: int) -> float:
        """The deviations' size at `step`, relative to step 0."""
        return max(0.0, 1.0 - step / self.total_steps)

    def on_train_begin(self, logs=None):
        self._last_step = self._step()  # a resumed run's weights sit at this step's scale

    def on_train_batch_end(self, batch, logs=None):
        # Called once per step, or once per `steps_per_execution` steps: scale by the steps
        # actually taken since the last call.
        step = self._step()
        before, after = self.scale(self._last_step), self.scale(step)
        self._last_step = step
        ratio = after / before if before > 0 else 0.0
        for group in self.groups:
            for tensors in zip(*(layer.weights for layer in group)):
                mean = keras.ops.mean(keras.ops.stack([t.value for t in tensors]), axis=0)
                for tensor in tensors:
                    tensor.assign(mean + ratio * (tensor.value - mean))


def tie_layers(student, num_groups: int):
    """A copy of `student` whose consecutive encoder calls share `num_groups` layers, each the
    mean of the layers it replaces (exact when they are already identical).

    Args:
        student: an ALBERT classifier with one distinct layer per encoder call.
        num_groups: shared layer groups of the result.

    Returns:
        A classifier of the same class, backbone config and preprocessor, with
        `num_groups` groups.
    """
    layers = layer_calls(student)
    groups = target_groups(len(layers), num_groups)
    backbone = student.backbone
    config = backbone.get_config()
    config.update(num_groups=num_groups, num_inner_repetitions=1)
    tied_backbone = type(backbone).from_config(config)
    tied_layers = [group[0] for group in tied_backbone.transformer_layers]
    shared = {id(w) for layer in layers for w in layer.weights}
    for target, source in zip(
            [w for w in tied_backbone.weights if not _in_layers(w, tied_layers)],
            [w for w in backbone.weights if id(w) not in shared]):
        if target.path.split("/")[-1] != source.path.split("/")[-1] or \
                tuple(target.shape) != tuple(source.shape):
            raise UserError(f"cannot tie layers: weight {source.path} {tuple(source.shape)} has "
                            f"no counterpart (found {target.path} {tuple(target.shape)})")
        target.assign(source.value)
    for tied, group in zip(tied_layers, groups):
        tied.set_weights(average_weights([layers[i] for i in group]))
    task_config = {k: v for k, v in student.get_config().items()
                   if k not in ("backbone", "preprocessor", "name", "trainable", "dtype")}
    tied = type(student)(backbone=tied_backbone, preprocessor=student.preprocessor,
                         **task_config)
    for target, source in zip(_head_weights(tied), _head_weights(student)):
        target.assign(source.value)
    logger.info("tied %d encoder calls into %d shared layer groups", len(layers), num_groups)
    return tied


def _in_layers(weight, layers) -> bool:
    return any(weight is w for layer in layers for w in layer.weights)


def _head_weights(classifier) -> list:
    """The task's own weights (classification head), in a stable order."""
    backbone_ids = {id(w) for w in classifier.backbone.weights}
    return [w for w in classifier.weights if id(w) not in backbone_ids]
