"""Freeze a traced function into constants and rewrite the few patterns TFLite stumbles on.

Two rewrites make 16x8 quantization (int16 activations, int8 weights) work on keras-hub
transformers; both leave the float results unchanged:

* `drop_index_normalization`: Keras' `ops.take` (every `Embedding`) turns index `i` into
  `where(i < 0, i + n, i)`. The 16x8 quantizer treats the int32 `LESS` / `NOT_EQUAL`
  comparisons like activations and stops with "Max and min for dynamic tensors should be
  recorded during calibration: Failed for tensor serving_default_segment_ids:0" (feeding the
  ids as float only moves the error to the `Cast`). Token, segment and position ids are never
  negative, so the `SelectV2` is replaced by its else-branch and the comparison disappears.
* `split_squared_difference`: LayerNorm's variance uses `SquaredDifference`, which the 16x8
  quantizer converts to int16 although TFLite has no int16 kernel for it ("SquaredDifference
  only supports FLOAT32 and INT32 now, got 7" at run time). `(a - b) * (a - b)` has int16
  kernels.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def _node_source(name: str) -> str:
    return name.split(":")[0].lstrip("^")


def _constant_value(node):
    from tensorflow.python.framework import tensor_util

    if node.op != "Const":
        return None
    return tensor_util.MakeNdarray(node.attr["value"].tensor)


def drop_index_normalization(graph_def) -> int:
    """Replace `SelectV2(Less(i, 0), i + n, i)` by `i`, in place; returns the count.

    Args:
        graph_def: a frozen `GraphDef` (functions inlined).
    """
    nodes = {node.name: node for node in graph_def.node}
    count = 0
    for node in graph_def.node:
        if node.op not in ("SelectV2", "Select") or len(node.input) != 3:
            continue
        condition = nodes.get(_node_source(node.input[0]))
        if condition is None or condition.op != "Less":
            continue
        index = _node_source(node.input[2])
        bound = nodes.get(_node_source(condition.input[1]))
        value = _constant_value(bound) if bound is not None else None
        if _node_source(condition.input[0]) != index or value is None or value.size != 1 \
                or value.reshape(-1)[0] != 0:
            continue
        kept = node.input[2]
        node.op = "Identity"
        del node.input[:]
        node.input.append(kept)
        for key in list(node.attr.keys()):
            if key != "T":
                del node.attr[key]
        count += 1
    return count


def split_squared_difference(graph_def) -> int:
    """Rewrite `SquaredDifference(a, b)` as `Mul(Sub(a, b), Sub(a, b))`, in place.

    Args:
        graph_def: a frozen `GraphDef`.

    Returns:
        The number of nodes rewritten.
    """
    import tensorflow as tf

    added = []
    for node in graph_def.node:
        if node.op != "SquaredDifference":
            continue
        difference = tf.compat.v1.NodeDef(name=node.name + "/difference", op="Sub",
                                          input=list(node.input))
        difference.attr["T"].CopyFrom(node.attr["T"])
        node.op = "Mul"
        del node.input[:]
        node.input.extend([difference.name, difference.name])
        added.append(difference)
    graph_def.node.extend(added)
    return len(added)


def frozen_function(function, input_signature, rewrites=()):
    """Trace `function`, fold its variables into constants, apply `rewrites`.

    Args:
        function: a Python callable taking the tensors of `input_signature` positionally and
            returning a dict of tensors.
        input_signature: list of named `tf.TensorSpec`s.
        rewrites: graph rewrites from this module (functions `graph_def -> count`).

    Returns:
        `(concrete_function, counts)`: a concrete function over constants only, taking the
        inputs positionally and returning the same dict; `counts` maps each rewrite's name to
        the number of nodes it changed.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    traced = tf.function(function, input_signature=input_signature).get_concrete_function()
    frozen = convert_variables_to_constants_v2(traced)
    graph_def = frozen.graph.as_graph_def()
    counts = {}
    for rewrite in rewrites:
        counts[rewrite.__name__] = rewrite(graph_def)
        logger.debug("%s changed %d nodes", rewrite.__name__, counts[rewrite.__name__])

    def import_graph():
        tf.graph_util.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(import_graph, [])
    # Outputs come back flat, in `tf.nest` order (a dict's keys sorted).
    keys = sorted(traced.structured_outputs)
    outputs = {key: tensor.name for key, tensor in zip(keys, frozen.outputs)}
    pruned = wrapped.prune(feeds=[tensor.name for tensor in frozen.inputs], fetches=outputs)
    return pruned, counts
