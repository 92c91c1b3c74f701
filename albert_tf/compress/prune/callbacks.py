"""`UpdatePruningStep`: the Keras callback that drives pruning during `fit`.

Like tfmot's callback of the same name it takes no arguments and finds what to prune on the
model being trained, including a student nested in a distiller (`keras.distillation.Distiller`
or any model that holds the pruned model as a layer).
"""

import keras

from albert_tf.compress.prune.magnitude import pruning_states
from albert_tf.errors import UserError


class UpdatePruningStep(keras.callbacks.Callback):
    """Advance the pruning step, update masks on schedule, keep pruned weights at zero.

    At the start of every training batch the step counter of each pruned model goes up by one
    and, on the schedule's pruning steps, masks are recomputed from the current magnitudes.
    After every batch (one optimizer step) `weight * mask` is written back, so the next forward
    pass and any evaluation in between see the pruned weights.

    Example:
    ```python
    model = prune_low_magnitude(model, ConstantSparsity(0.5, begin_step=0, frequency=10))
    model.fit(x, y, epochs=2, callbacks=[UpdatePruningStep()])
    ```
    """

    def __init__(self):
        super().__init__()
        self._states = []

    def on_train_begin(self, logs=None):
        self._states = pruning_states(self.model)
        if not self._states:
            raise UserError("UpdatePruningStep: the model being trained has no pruned weights; "
                            "call prune_low_magnitude on it (or on the student) first")
        steps_per_execution = getattr(self.model, "steps_per_execution", 1) or 1
        if int(steps_per_execution) != 1:
            raise UserError("UpdatePruningStep needs compile(steps_per_execution=1): with "
                            f"{steps_per_execution}, optimizer steps would run between mask "
                            "updates without the masks being applied")
        for state in self._states:
            state.apply_masks()

    def on_train_batch_begin(self, batch, logs=None):
        for state in self._states:
            state.advance()

    def on_train_batch_end(self, batch, logs=None):
        for state in self._states:
            state.apply_masks()
