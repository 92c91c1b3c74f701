"""The pruning stage's settings: `PruneConfig` with its `StructuredPruneConfig` and
`UnstructuredPruneConfig`, validated when constructed.

Kept apart from the pruning code (Keras, keras-hub) so that the CLI and the recipe schema read
them without starting TensorFlow.
"""

import dataclasses
import typing
from typing import Literal

from albert_tf.compress.prune.schedules import ConstantSparsity, PolynomialDecay, PruningSchedule
from albert_tf.errors import UserError, check_finite_numbers

Importance = Literal["magnitude", "taylor"]
IMPORTANCE_METHODS = typing.get_args(Importance)
Schedule = Literal["polynomial", "constant"]
BlockPooling = Literal["AVG", "MAX"]


@dataclasses.dataclass
class StructuredPruneConfig:
    """What to remove, and how to rank it.

    Args:
        heads_fraction: fraction of attention heads removed from every transformer layer.
        ffn_fraction: fraction of FFN intermediate neurons removed from every layer.
        depth: new `num_layers` (times the groups are applied); None keeps it.
        keep_groups: number of groups to keep (None: all, or see the module docstring).
        keep_inner_repetitions: inner layers kept per group (None: all).
        importance: "magnitude" (no data needed) or "taylor" (calibration batches).
        calibration_batches: batches used by "taylor".
    """

    heads_fraction: float = 0.0
    ffn_fraction: float = 0.0
    depth: int | None = None
    keep_groups: int | None = None
    keep_inner_repetitions: int | None = None
    importance: Importance = "magnitude"
    calibration_batches: int = 8

    def __post_init__(self):
        self.validate()  # a config that exists is a valid one, wherever it was built

    def validate(self) -> None:
        """Raise `UserError` on values out of range."""
        check_finite_numbers(self)
        for name in ("heads_fraction", "ffn_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise UserError(f"{name} must be in [0, 1). Received: {name}={value}")
        for name in ("depth", "keep_groups", "keep_inner_repetitions"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"{name} must be >= 1. Received: {name}={value}")
        if self.importance not in IMPORTANCE_METHODS:
            raise UserError(f"importance must be one of {', '.join(IMPORTANCE_METHODS)}. "
                            f"Received: {self.importance!r}")
        if self.calibration_batches < 1:
            raise UserError("calibration_batches must be >= 1. "
                            f"Received: {self.calibration_batches}")




SCHEDULE_KINDS = typing.get_args(Schedule)


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
    schedule: Schedule = "polynomial"
    initial_sparsity: float = 0.0
    begin_step: int = 0
    end_step: int | None = None
    frequency: int | None = None
    power: float = 3.0
    block_size: tuple[int, int] = (1, 1)
    block_pooling: BlockPooling = "AVG"
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
        if self.block_pooling not in typing.get_args(BlockPooling):
            raise UserError(f"block_pooling must be AVG or MAX. Received: {self.block_pooling!r}")
        if len(self.block_size) != 2 or min(self.block_size) < 1:
            raise UserError(f"block_size must be two integers >= 1. Received: {self.block_size}")
        if self.m_by_n is not None and (len(self.m_by_n) != 2
                                        or not 0 < self.m_by_n[0] < self.m_by_n[1]):
            raise UserError(f"m_by_n must be (m, n) with 0 < m < n. Received: {self.m_by_n}")
        for name in ("begin_step", "end_step", "frequency"):
            value = getattr(self, name)
            minimum = 1 if name == "frequency" else 0
            if value is not None and value < minimum:
                raise UserError(f"{name} must be >= {minimum}. Received: {name}={value}")
        if not self.power > 0:
            raise UserError(f"power must be > 0. Received: power={self.power}")

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
    """The pruning stage, for every task (text and token classifiers alike).

    Args:
        structured: heads / neurons / depth to remove, or None.
        unstructured: magnitude sparsity, or None.
        fine_tune_steps: training steps after structured pruning, during which unstructured
            sparsity follows its schedule (0: one-shot, no data needed with magnitude
            importance).
        learning_rate: Adam learning rate of the fine-tuning steps.
        batch_size: examples per fine-tuning step and per Taylor calibration batch, when the
            stage batches the training examples itself.
    """

    structured: StructuredPruneConfig | None = None
    unstructured: UnstructuredPruneConfig | None = None
    fine_tune_steps: int = 0
    learning_rate: float = 3e-5
    batch_size: int = 32

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
        if self.batch_size < 1:
            raise UserError(f"batch_size must be >= 1. Received: {self.batch_size}")
        if self.structured is not None:
            self.structured.validate()
        if self.unstructured is not None:
            self.unstructured.validate()
