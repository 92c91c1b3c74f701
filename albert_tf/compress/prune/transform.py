"""The pruning stage as one function: `prune(model, config, data) -> (model, metrics)`.

Order: structured pruning first (a smaller dense model), then unstructured magnitude pruning of
what is left, with optional fine-tuning steps during which the sparsity follows the schedule
(and which also let the model recover from structured pruning). The result is always a plain
keras-hub classifier: masks are stripped, zeros are baked into the weights.

Example:
```python
config = PruneConfig(
    structured=StructuredPruneConfig(heads_fraction=0.25, ffn_fraction=0.5, depth=3),
    unstructured=UnstructuredPruneConfig(sparsity=0.7),
    fine_tune_steps=300)
pruned, metrics = prune(classifier, config, data=train_ds)
```
"""

import contextlib
import dataclasses
import logging

import keras
import numpy as np

from albert_tf.compress.prune.callbacks import UpdatePruningStep
from albert_tf.compress.prune.magnitude import (
    prune_low_magnitude,
    pruning_states,
    strip_pruning,
    zero_fraction,
)
from albert_tf.compress.prune.schedules import ConstantSparsity, PolynomialDecay, PruningSchedule
from albert_tf.compress.prune.structured import StructuredPruneConfig, structured_prune
from albert_tf.errors import UserError, check_finite_numbers

logger = logging.getLogger(__name__)

SCHEDULE_KINDS = ("polynomial", "constant")


@dataclasses.dataclass
class UnstructuredPruneConfig:
    """Magnitude pruning settings (tfmot's vocabulary).

    Args:
        sparsity: final fraction of zeros in every pruned weight, in [0, 1).
        schedule: "polynomial" (`PolynomialDecay` from `initial_sparsity`) or "constant"
            (`ConstantSparsity`). Used only when the stage fine-tunes; with no fine-tuning the
            masks are computed once, at `sparsity`.
        initial_sparsity: starting sparsity of the polynomial schedule.
        begin_step: first pruning step.
        end_step: step at which `sparsity` is reached; default: two thirds of the fine-tuning
            steps, rounded down to a multiple of `frequency` so the last update lands on it.
        frequency: steps between mask updates; default: a tenth of the pruning span.
        power: exponent of the polynomial schedule.
        block_size: (rows, columns) tiles pruned together, e.g. (1, 4).
        block_pooling: "AVG" or "MAX".
        m_by_n: e.g. (2, 4) for 2:4 sparsity of Dense / EinsumDense kernels (overrides
            `sparsity`).
        include: regular expressions on weight paths to prune (default: all prunable).
        exclude: regular expressions on weight paths to keep dense.
    """

    sparsity: float = 0.5
    schedule: str = "polynomial"
    initial_sparsity: float = 0.0
    begin_step: int = 0
    end_step: int | None = None
    frequency: int | None = None
    power: float = 3.0
    block_size: tuple[int, int] = (1, 1)
    block_pooling: str = "AVG"
    m_by_n: tuple[int, int] | None = None
    include: list[str] | None = None
    exclude: list[str] | None = None

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise `UserError` on values out of range."""
        check_finite_numbers(self)
        if not 0.0 <= self.sparsity < 1.0:
            raise UserError(f"sparsity must be in [0, 1). Received: sparsity={self.sparsity}")
        if self.schedule not in SCHEDULE_KINDS:
            raise UserError(f"schedule must be one of {', '.join(SCHEDULE_KINDS)}. "
                            f"Received: {self.schedule!r}")

    def make_schedule(self, fine_tune_steps: int) -> PruningSchedule:
        """The schedule for a run of `fine_tune_steps` training steps.

        Args:
            fine_tune_steps: training steps the stage will run (>= 1).
        """
        self.validate()
        span = (self.end_step if self.end_step is not None
                else max(1, fine_tune_steps * 2 // 3)) - self.begin_step
        if span < 0:
            raise UserError(f"end_step={self.end_step} is before begin_step={self.begin_step}")
        frequency = self.frequency or max(1, span // 10)
        # Steps count from 1 (tfmot): the last update must land on a step that really runs.
        end_step = self.begin_step + max(span // frequency, 1) * frequency
        if end_step > fine_tune_steps:
            raise UserError(
                f"the pruning schedule ends at step {end_step} but only {fine_tune_steps} "
                "fine-tuning steps run: lower end_step / frequency or fine-tune longer")
        if self.schedule == "constant":
            return ConstantSparsity(self.sparsity, begin_step=self.begin_step,
                                    end_step=end_step, frequency=frequency)
        return PolynomialDecay(self.initial_sparsity, self.sparsity, begin_step=self.begin_step,
                               end_step=end_step, power=self.power, frequency=frequency)


@dataclasses.dataclass
class PruneConfig:
    """The pruning stage.

    Args:
        structured: heads / neurons / depth to remove, or None.
        unstructured: magnitude sparsity, or None.
        fine_tune_steps: training steps after structured pruning, during which unstructured
            sparsity follows its schedule (0: one-shot, no data needed with magnitude
            importance).
        learning_rate: Adam learning rate of the fine-tuning steps.
    """

    structured: StructuredPruneConfig | None = None
    unstructured: UnstructuredPruneConfig | None = None
    fine_tune_steps: int = 0
    learning_rate: float = 3e-5

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise `UserError` on inconsistent settings."""
        check_finite_numbers(self)
        if self.structured is None and self.unstructured is None:
            raise UserError("nothing to prune: give structured and/or unstructured settings")
        if self.fine_tune_steps < 0:
            raise UserError(f"fine_tune_steps must be >= 0. Received: {self.fine_tune_steps}")
        if self.learning_rate <= 0:
            raise UserError(f"learning_rate must be > 0. Received: {self.learning_rate}")
        if self.structured is not None:
            self.structured.validate()
        if self.unstructured is not None:
            self.unstructured.validate()


def _is_tokenized(data) -> bool:
    spec = getattr(data, "element_spec", None)
    features = spec[0] if isinstance(spec, tuple) else spec
    return isinstance(features, dict) and "token_ids" in features


@contextlib.contextmanager
def _without_preprocessor(model, data):
    """Tokenised batches bypass the classifier's own preprocessor during `fit`."""
    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None or not _is_tokenized(data):
        yield model
        return
    model.preprocessor = None
    try:
        yield model
    finally:
        model.preprocessor = preprocessor


def fine_tune(model, data, steps: int, learning_rate: float = 3e-5, callbacks=()) -> dict:
    """Train a classifier for a fixed number of steps (recovery after pruning).

    Args:
        model: a keras-hub text classifier.
        data: `tf.data.Dataset` of `(features, labels)` batches; repeated as needed.
        steps: optimizer steps.
        learning_rate: Adam learning rate.
        callbacks: Keras callbacks, e.g. `[UpdatePruningStep()]`.

    Returns:
        The last step's training metrics (`loss`, `accuracy`).
    """
    if steps < 1:
        raise UserError(f"steps must be >= 1. Received: {steps}")
    activation = getattr(model, "activation", None)
    from_logits = getattr(activation, "__name__", "linear") != "softmax"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    with _without_preprocessor(model, data):
        history = model.fit(data.repeat(), steps_per_epoch=steps, epochs=1,
                            callbacks=list(callbacks), verbose="auto")
    return {name: float(values[-1]) for name, values in history.history.items()}


def count_nonzero(model) -> int:
    """Weights of `model` that are not zero (what a sparse file has to store)."""
    return int(sum(np.count_nonzero(w.numpy()) for w in model.weights))


def start_unstructured(model, unstructured: UnstructuredPruneConfig, fine_tune_steps: int):
    """Wrap `model`'s prunable kernels with masks: on a schedule over `fine_tune_steps` (the
    returned callback advances it), or at the target at once when there is no fine-tuning.

    Returns:
        `(callbacks for the fine-tuning fit, the schedule's config or None)`.
    """
    schedule = (unstructured.make_schedule(fine_tune_steps) if fine_tune_steps
                else ConstantSparsity(unstructured.sparsity, begin_step=0))
    prune_low_magnitude(model, schedule, block_size=unstructured.block_size,
                        block_pooling_type=unstructured.block_pooling,
                        sparsity_m_by_n=unstructured.m_by_n,
                        include=unstructured.include, exclude=unstructured.exclude)
    if fine_tune_steps:
        return [UpdatePruningStep()], schedule.get_config()
    for state in pruning_states(model):
        state.update_masks(unstructured.sparsity)
    return [], None


def prune(model, config: PruneConfig, data=None):
    """Run the pruning stage.

    Args:
        model: a keras-hub text classifier (structured pruning needs an ALBERT one).
        config: `PruneConfig`.
        data: a `tf.data.Dataset` of `(features, labels)` batches (tokenised dicts, or raw text
            when the classifier has its preprocessor): used for fine-tuning and for Taylor
            importance. Not needed for one-shot magnitude pruning.

    Returns:
        `(pruned_model, metrics)`. With structured pruning the model is a new object; otherwise
        the input model is pruned in place and returned.
    """
    config.validate()
    needs_data = config.fine_tune_steps > 0 or (
        config.structured is not None and config.structured.importance == "taylor")
    if needs_data and data is None:
        raise UserError("fine-tuning steps and Taylor importance need training data")
    metrics: dict = {"parameters_before": int(model.count_params()),
                     "nonzero_parameters_before": count_nonzero(model)}
    if config.structured is not None:
        model, metrics["structured"] = structured_prune(model, config.structured,
                                                        calibration_data=data)
    callbacks = []
    unstructured = config.unstructured
    if unstructured is not None:
        callbacks, schedule = start_unstructured(model, unstructured, config.fine_tune_steps)
        if schedule is not None:
            metrics["schedule"] = schedule
    if config.fine_tune_steps:
        logger.info("fine-tuning %d steps", config.fine_tune_steps)
        metrics["fine_tune"] = fine_tune(model, data, config.fine_tune_steps,
                                         config.learning_rate, callbacks)
    if unstructured is not None:
        pruned = [p.target for state in pruning_states(model) for p in state.pruned]
        strip_pruning(model)
        metrics["weight_sparsity"] = {w.path: zero_fraction(w.variable) for w in pruned}
        metrics["sparsity"] = (sum(metrics["weight_sparsity"][w.path] * w.size for w in pruned)
                               / sum(w.size for w in pruned))
    metrics["parameters_after"] = int(model.count_params())
    metrics["nonzero_parameters_after"] = count_nonzero(model)
    return model, metrics
