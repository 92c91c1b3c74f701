"""The pruning stage as one function: `prune(model, config, data) -> (model, metrics)`.

Order: structured pruning first (a smaller dense model), then unstructured magnitude pruning of
what is left, with optional fine-tuning steps during which the sparsity follows the schedule
(and which also let the model recover from structured pruning). The result is always a plain
model of the same task: masks are stripped, zeros are baked into the weights. Text and token
classifiers run the same stage; their task adapter (`albert_tf.tasks`) batches the training
examples and puts the head back on a structurally pruned backbone.

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
import logging

import keras
import numpy as np

from albert_tf.compress.prune.callbacks import UpdatePruningStep
from albert_tf.compress.prune.config import (  # noqa: F401  (re-exported: their old home)
    PruneConfig,
    StructuredPruneConfig,
    UnstructuredPruneConfig,
)
from albert_tf.compress.prune.magnitude import (
    prune_low_magnitude,
    pruning_states,
    strip_pruning,
    zero_fraction,
)
from albert_tf.compress.prune.schedules import ConstantSparsity
from albert_tf.compress.prune.structured import structured_prune
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


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
        model: a keras-hub text classifier or an albert_tf token classifier.
        data: `tf.data.Dataset` of `(features, labels)` or `(features, labels, weights)`
            batches; repeated as needed.
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
                  # Weighted: a tagger's padding and non-first sub-tokens have weight 0.
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
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


def training_batches(model, data, batch_size: int):
    """`data` as batches: a task's training examples (`TextExamples`, `TaggedSentences`) are
    batched by the model's task adapter; batches (a `tf.data.Dataset`) pass through."""
    if data is None or hasattr(data, "element_spec"):
        return data
    from albert_tf.tasks.adapter import adapter_for, check_splits

    adapter = adapter_for(model)
    if not adapter.owns_examples(data):
        return data
    check_splits(adapter, model, (data, None, None))
    # Repeated: Taylor importance may want more calibration batches than one epoch of a
    # small split holds.
    return adapter.dataset(model, data, batch_size, shuffle=True).repeat()


def prune(model, config: PruneConfig, data=None):
    """Run the pruning stage.

    Args:
        model: a keras-hub text classifier or an albert_tf token classifier (structured
            pruning needs an ALBERT backbone).
        config: `PruneConfig`.
        data: the training examples (`TextExamples` / `TaggedSentences`, batched by
            `config.batch_size`), or a `tf.data.Dataset` of `(features, labels)` batches
            (tokenised dicts, or raw text when the classifier has its preprocessor): used for
            fine-tuning and for Taylor importance. Not needed for one-shot magnitude pruning.

    Returns:
        `(pruned_model, metrics)`. With structured pruning the model is a new object; otherwise
        the input model is pruned in place and returned.
    """
    config.validate()
    needs_data = config.fine_tune_steps > 0 or (
        config.structured is not None and config.structured.importance == "taylor")
    if needs_data and data is None:
        raise UserError("fine-tuning steps and Taylor importance need training data")
    data = training_batches(model, data, config.batch_size) if needs_data else None
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
