"""Which weights of a Keras 3 model can be pruned (tfmot's "prune registry", for Keras 3).

Prunable: the `kernel` of `keras.layers.Dense` and `keras.layers.EinsumDense` (the query,
key, value and output projections inside `MultiHeadAttention`) and the `embeddings` of
`keras.layers.Embedding` (keras-hub's `ReversibleEmbedding` is one). Biases, layer norms and
position embeddings are left dense, as in tfmot. Quantized and LoRA-enabled layers are skipped:
their stored kernel is not the matrix the layer multiplies by.

ALBERT shares one `TransformerEncoder` across repetitions: the functional graph calls the same
layer object many times, but it holds each kernel once, so walking layers (not calls) and
de-duplicating variables visits every shared kernel exactly once.

Each weight also gets a 2-D "matrix view" (inputs x outputs) for block and N:M patterns:
EinsumDense kernels such as `(hidden, heads, head_dim)` or `(heads, head_dim, hidden)` are
read through their einsum equation, so the rows are always the contracted (input) axes.
"""

import dataclasses
import logging
import re
from collections.abc import Sequence

import keras

logger = logging.getLogger(__name__)

LAYER_KINDS = {"Dense": "kernel", "EinsumDense": "kernel", "Embedding": "embeddings"}


@dataclasses.dataclass(frozen=True)
class PrunableWeight:
    """One weight variable that pruning may sparsify.

    Args:
        path: the variable's path in the model (e.g. `token_embedding/embeddings`).
        variable: the `keras.Variable` itself.
        layer_kind: "Dense", "EinsumDense" or "Embedding".
        matrix_shape: (rows, columns) of the 2-D view used by block and N:M patterns.
    """

    path: str
    variable: keras.Variable
    layer_kind: str
    matrix_shape: tuple[int, int]

    @property
    def size(self) -> int:
        return self.matrix_shape[0] * self.matrix_shape[1]


def _layer_kind(layer) -> str | None:
    # isinstance, so subclasses count: keras-hub's ReversibleEmbedding is an Embedding.
    if isinstance(layer, keras.layers.EinsumDense):
        return "EinsumDense"
    if isinstance(layer, keras.layers.Dense):
        return "Dense"
    if isinstance(layer, keras.layers.Embedding):
        return "Embedding"
    return None


def _einsum_matrix_shape(equation: str, shape: tuple[int, ...]) -> tuple[int, int]:
    """Rows = kernel axes contracted with the input, if they lead; else the first axis."""
    inputs, rest = equation.split(",")
    kernel_axes = rest.split("->")[0]
    contracted = [axis in inputs for axis in kernel_axes]
    num_leading = 0
    while num_leading < len(contracted) and contracted[num_leading]:
        num_leading += 1
    if num_leading == 0 or any(contracted[num_leading:]):
        num_leading = 1
    rows = 1
    for dim in shape[:num_leading]:
        rows *= int(dim)
    columns = 1
    for dim in shape[num_leading:]:
        columns *= int(dim)
    return rows, columns


def _matrix_shape(layer, kind: str, shape: tuple[int, ...]) -> tuple[int, int]:
    if kind == "EinsumDense":
        return _einsum_matrix_shape(layer.equation, shape)
    columns = 1
    for dim in shape[1:]:
        columns *= int(dim)
    return int(shape[0]), columns


def _compile_patterns(patterns: Sequence[str] | None) -> list[re.Pattern]:
    return [re.compile(p) for p in (patterns or [])]


def find_prunable_weights(model, include: Sequence[str] | None = None,
                          exclude: Sequence[str] | None = None,
                          layer_kinds: Sequence[str] = tuple(LAYER_KINDS)) -> list[PrunableWeight]:
    """List the prunable weights of a built Keras 3 model, each variable once.

    Args:
        model: a built `keras.Model` or layer (nested layers are searched).
        include: regular expressions; if given, a weight is kept only when its path matches
            one (`re.search`).
        exclude: regular expressions; a weight whose path matches one is left dense.
        layer_kinds: subset of "Dense", "EinsumDense", "Embedding".

    Returns:
        The weights in the model's layer order.
    """
    include_patterns = _compile_patterns(include)
    exclude_patterns = _compile_patterns(exclude)
    found: list[PrunableWeight] = []
    seen: set[int] = set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        kind = _layer_kind(layer)
        if kind is None or kind not in layer_kinds:
            continue
        if getattr(layer, "quantization_mode", None) or getattr(layer, "lora_enabled", False):
            logger.info("not pruning %s: quantized or LoRA layers are skipped", layer.name)
            continue
        name = LAYER_KINDS[kind]
        for variable in layer.weights:
            if variable.name != name or id(variable) in seen:
                continue
            seen.add(id(variable))
            path = variable.path
            if include_patterns and not any(p.search(path) for p in include_patterns):
                continue
            if any(p.search(path) for p in exclude_patterns):
                continue
            found.append(PrunableWeight(path, variable, kind,
                                        _matrix_shape(layer, kind, tuple(variable.shape))))
    return found
