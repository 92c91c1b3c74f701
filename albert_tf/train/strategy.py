"""Distribution strategies and mixed precision, chosen by name.

Both must be set before the model is built: `make_strategy` returns the strategy whose
`scope()` the model and optimizer are created in; `set_precision` sets Keras' global dtype
policy (`precision_scope` sets it for one block).
"""

import contextlib
import json
import logging
import os

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}')
# TensorFlow allows one multi-worker strategy per process (it configures the collectives once),
# so a process that trains twice (pre-training, then distillation) reuses it.
_MULTI_WORKER = []


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
        check_tf_config(os.environ.get("TF_CONFIG", ""))
        if not _MULTI_WORKER:
            _MULTI_WORKER.append(tf.distribute.MultiWorkerMirroredStrategy())
        strategy = _MULTI_WORKER[0]
    elif name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)
    else:
        raise UserError(f"unknown strategy {name!r}: expected one of {', '.join(STRATEGIES)}")
    logger.info("%s strategy with %d replicas", name, strategy.num_replicas_in_sync)
    return strategy


def check_tf_config(text: str) -> None:
    """Raise `UserError` unless `text` (the `TF_CONFIG` variable) describes a cluster of
    `chief` / `worker` tasks and this process' place in it; empty means one worker alone."""
    if not text.strip():
        return
    expected = f"expected JSON such as {TF_CONFIG_EXAMPLE}"
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise UserError(f"TF_CONFIG is not valid JSON ({exc}): {expected}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster or not isinstance(task, dict):
        raise UserError(f"TF_CONFIG needs a \"cluster\" and a \"task\" object: {expected}")
    for job, addresses in cluster.items():
        if job not in ("chief", "worker"):
            raise UserError(f"TF_CONFIG cluster has a {job!r} job: multi-worker training "
                            f"takes only chief and worker; {expected}")
        if not (isinstance(addresses, list) and addresses and all(
                isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses)):
            raise UserError(f"TF_CONFIG cluster {job!r} must list host:port addresses. "
                            f"Received: {addresses!r}")
    kind, index = task.get("type"), task.get("index")
    if kind not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[kind]):
        raise UserError(f"TF_CONFIG task {task!r} is not in the cluster: its type must be one "
                        f"of {sorted(cluster)} and its index 0..{len(cluster.get(kind, [1])) - 1}")


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
