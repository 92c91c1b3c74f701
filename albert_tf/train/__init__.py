"""Fine-tuning: schedule, checkpoints and resume, distribution strategy, mixed precision.

Names are imported lazily, so that `albert_tf.train.config` (and the CLI's argument parsing)
does not pull in TensorFlow. The training function is `albert_tf.train.finetune.finetune`: it is
not re-exported here, because the package attribute `finetune` is the submodule once that is
imported, so `from albert_tf.train import finetune` would depend on import order.
"""

from albert_tf.lazy_exports import lazy_getattr

_EXPORTS = {
    "FinetuneConfig": "albert_tf.train.config",
    "make_strategy": "albert_tf.train.strategy",
    "set_precision": "albert_tf.train.strategy",
    "PRECISIONS": "albert_tf.train.strategy",
    "STRATEGIES": "albert_tf.train.strategy",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
