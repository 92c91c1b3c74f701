"""Fine-tuning: schedule, checkpoints and resume, distribution strategy, mixed precision.

Names are imported lazily, so that `albert_tf.train.config` (and the CLI's argument parsing)
does not pull in TensorFlow.
"""

import importlib

_EXPORTS = {
    "FinetuneConfig": "albert_tf.train.config",
    "finetune": "albert_tf.train.finetune",
    "make_strategy": "albert_tf.train.strategy",
    "set_precision": "albert_tf.train.strategy",
    "PRECISIONS": "albert_tf.train.strategy",
    "STRATEGIES": "albert_tf.train.strategy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'albert_tf.train' has no attribute {name!r}")
