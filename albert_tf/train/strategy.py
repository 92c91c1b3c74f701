"""Distribution strategies and mixed precision, chosen by name.

Both must be set before the model is built: `make_strategy` returns the strategy whose
`scope()` the model and optimizer are created in; `set_precision` sets Keras' global dtype
policy (`precision_scope` sets it for one block).
"""

import contextlib
import logging

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def make_strategy(name: str = "default", tpu: str | None = None):
    """A `tf.distribute.Strategy`.

    Args:
        name: `default` (one device), `mirrored` (all local GPUs, or all logical CPUs when
            there is no GPU), `multi-worker` (`TF_CONFIG` describes the cluster), or `tpu`.
        tpu: TPU name or address for `tpu` (empty: the local / Colab TPU).
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
    elif name == "multi-worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)
    else:
        raise UserError(f"unknown strategy {name!r}: expected one of {', '.join(STRATEGIES)}")
    logger.info("%s strategy with %d replicas", name, strategy.num_replicas_in_sync)
    return strategy


@contextlib.contextmanager
def precision_scope(name: str = "float32"):
    """`set_precision(name)` for the duration of a block, then the previous policy again.

    A policy left set leaks into later steps of the same process: models loaded afterwards
    compute in bfloat16, and TFLite has no bfloat16 kernels.
    """
    import keras

    previous = keras.config.dtype_policy()
    set_precision(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def set_precision(name: str = "float32") -> None:
    """Set Keras' global dtype policy (`mixed_*` computes in 16 bits, keeps float32 weights)."""
    import keras

    if name not in PRECISIONS:
        raise UserError(f"unknown precision {name!r}: expected one of {', '.join(PRECISIONS)}")
    keras.mixed_precision.set_dtype_policy(name)
