"""Pruning schedules: when to recompute masks and at which sparsity.

Same names, arguments and semantics as tensorflow-model-optimization 0.8.1
(`tfmot.sparsity.keras.ConstantSparsity` / `PolynomialDecay`), written again here because
importing any part of tfmot sets `TF_USE_LEGACY_KERAS=1` for the whole process and switches
`tf.keras` to tf_keras (Keras 2), which it then requires as a dependency.

A schedule is called with the pruning step (1 for the first training batch, as in tfmot) and
returns `(should_prune, sparsity)`: masks are recomputed only on steps where `should_prune` is
true, which is every `frequency` steps inside `[begin_step, end_step]` (`end_step=-1`: no end).

Example:
```python
schedule = PolynomialDecay(initial_sparsity=0.0, final_sparsity=0.9,
                           begin_step=0, end_step=1000, power=3, frequency=100)
schedule(500)  # (True, 0.7875)
```
"""

import abc

from albert_tf.errors import UserError


class PruningSchedule(abc.ABC):
    """Base class: a callable `step -> (should_prune, sparsity)` with a config."""

    begin_step: int
    end_step: int
    frequency: int

    @abc.abstractmethod
    def sparsity_at(self, step: int) -> float:
        """Target sparsity (fraction of zeros) at `step`."""

    @property
    def end_sparsity(self) -> float:
        """The sparsity the schedule ends at."""
        return self.sparsity_at(self.end_step if self.end_step >= 0 else self.begin_step)

    def should_prune(self, step: int) -> bool:
        """True on steps where masks are recomputed (tfmot's `_should_prune_in_step`)."""
        in_range = step >= self.begin_step and (step <= self.end_step or self.end_step < 0)
        return in_range and (step - self.begin_step) % self.frequency == 0

    def __call__(self, step: int) -> tuple[bool, float]:
        return self.should_prune(step), self.sparsity_at(step)

    @abc.abstractmethod
    def get_config(self) -> dict:
        """Constructor arguments, as in tfmot: `{"class_name": ..., "config": {...}}`."""

    @classmethod
    def from_config(cls, config: dict) -> "PruningSchedule":
        return cls(**config)

    def _validate_steps(self, allow_endless: bool) -> None:
        if self.begin_step < 0:
            raise UserError(f"begin_step must be >= 0. Received: begin_step={self.begin_step}")
        if self.end_step == -1 and not allow_endless:
            raise UserError(f"{type(self).__name__} needs an end_step >= begin_step; -1 "
                            "(no end) is allowed only for ConstantSparsity")
        if self.end_step != -1 and self.end_step < self.begin_step:
            raise UserError(f"end_step must be -1 or >= begin_step. Received: "
                            f"begin_step={self.begin_step}, end_step={self.end_step}")
        if self.frequency <= 0:
            raise UserError(f"frequency must be > 0. Received: frequency={self.frequency}")

    @staticmethod
    def _validate_sparsity(value: float, name: str) -> None:
        if not 0.0 <= value < 1.0:
            raise UserError(f"{name} must be in [0, 1). Received: {name}={value}")


class ConstantSparsity(PruningSchedule):
    """The same sparsity at every pruning step in `[begin_step, end_step]`.

    Args:
        target_sparsity: float in [0, 1). Fraction of each pruned weight set to zero.
        begin_step: int. First step at which masks may be computed.
        end_step: int. Last such step; -1 prunes until training ends.
        frequency: int. Masks are recomputed every `frequency` steps from `begin_step`.
    """

    def __init__(self, target_sparsity: float, begin_step: int, end_step: int = -1,
                 frequency: int = 100):
        self.target_sparsity = float(target_sparsity)
        self.begin_step = int(begin_step)
        self.end_step = int(end_step)
        self.frequency = int(frequency)
        self._validate_steps(allow_endless=True)
        self._validate_sparsity(self.target_sparsity, "target_sparsity")

    def sparsity_at(self, step: int) -> float:
        return self.target_sparsity

    def get_config(self) -> dict:
        return {"class_name": type(self).__name__, "config": {
            "target_sparsity": self.target_sparsity, "begin_step": self.begin_step,
            "end_step": self.end_step, "frequency": self.frequency}}


class PolynomialDecay(PruningSchedule):
    """Sparsity rising from `initial_sparsity` to `final_sparsity` (Zhu & Gupta, 2017).

    `sparsity(step) = final + (initial - final) * (1 - p) ** power`, with
    `p = clip((step - begin_step) / (end_step - begin_step), 0, 1)`: it rises fast at first
    and flattens towards the end.

    Args:
        initial_sparsity: float in [0, 1). Sparsity at `begin_step`.
        final_sparsity: float in [0, 1). Sparsity from `end_step` on.
        begin_step: int. First step at which masks may be computed.
        end_step: int. Step at which `final_sparsity` is reached (>= begin_step).
        power: float. Exponent of the decay.
        frequency: int. Masks are recomputed every `frequency` steps from `begin_step`.
    """

    def __init__(self, initial_sparsity: float, final_sparsity: float, begin_step: int,
                 end_step: int, power: float = 3, frequency: int = 100):
        self.initial_sparsity = float(initial_sparsity)
        self.final_sparsity = float(final_sparsity)
        self.begin_step = int(begin_step)
        self.end_step = int(end_step)
        self.power = power
        self.frequency = int(frequency)
        self._validate_steps(allow_endless=False)
        self._validate_sparsity(self.initial_sparsity, "initial_sparsity")
        self._validate_sparsity(self.final_sparsity, "final_sparsity")

    def sparsity_at(self, step: int) -> float:
        span = self.end_step - self.begin_step
        # tfmot divides by zero here when begin == end; treat that as "already at the end".
        progress = 1.0 if span == 0 else min(1.0, max(0.0, (step - self.begin_step) / span))
        return (self.final_sparsity
                + (self.initial_sparsity - self.final_sparsity) * (1.0 - progress) ** self.power)

    def get_config(self) -> dict:
        return {"class_name": type(self).__name__, "config": {
            "initial_sparsity": self.initial_sparsity, "final_sparsity": self.final_sparsity,
            "power": self.power, "begin_step": self.begin_step, "end_step": self.end_step,
            "frequency": self.frequency}}


SCHEDULES = {cls.__name__: cls for cls in (ConstantSparsity, PolynomialDecay)}


def deserialize_schedule(config: dict) -> PruningSchedule:
    """Rebuild a schedule from `schedule.get_config()`.

    Args:
        config: `{"class_name": "ConstantSparsity" | "PolynomialDecay", "config": {...}}`.
    """
    name = config.get("class_name")
    if name not in SCHEDULES:
        raise UserError(f"unknown pruning schedule {name!r}: expected one of "
                        f"{', '.join(SCHEDULES)}")
    return SCHEDULES[name].from_config(config["config"])
