"""What a `.tflite` file contains: operators, their versions and the types they compute in.

Read straight from the flatbuffer with the schema module TensorFlow ships
(`tensorflow.lite.python.schema_py_generated`), without building an interpreter. Runtimes
refuse a model when they lack an operator *version* (tflite-runtime 2.14 knows
`FULLY_CONNECTED` up to version 11; today's converter writes version 12 for dynamic-range
models), so versions are part of the description.

Each operator is put in one compute class from its tensors:

* `float`: float32 (or float16) activations and weights;
* `hybrid`: float activations with int8 weights (dynamic-range quantization);
* `int8` / `int16`: quantized activations;
* `quantize`: QUANTIZE / DEQUANTIZE boundaries between float and integer parts;
* `integer`: index, shape and mask arithmetic on int32 / int64 / bool tensors;
* `custom`: custom operators (e.g. `TFText>FastSentencepieceTokenize`).
"""

from __future__ import annotations

import collections
import os
from pathlib import Path

_QUANTIZE_OPS = {"QUANTIZE", "DEQUANTIZE"}


def _schema():
    from tensorflow.lite.python import schema_py_generated

    return schema_py_generated


def _enum_names(enum_class) -> dict[int, str]:
    return {value: name for name, value in vars(enum_class).items()
            if not name.startswith("_") and isinstance(value, int)}


def _read(model) -> bytes:
    if isinstance(model, (str, os.PathLike)):
        return Path(model).read_bytes()
    return bytes(model)


def _compute_class(op_name: str, output_types: list[str], constant_types: list[str],
                   input_types: list[str]) -> str:
    if op_name in _QUANTIZE_OPS:
        return "quantize"
    floats = {"FLOAT32", "FLOAT16"}
    if output_types and output_types[0] == "INT8":
        return "int8"
    if output_types and output_types[0] == "INT16":
        return "int16"
    if output_types and output_types[0] in floats:
        if any(t in ("INT8", "INT4") for t in constant_types):
            return "hybrid"
        return "float"
    if any(t in floats for t in input_types):
        return "float"
    return "integer"


def describe_ops(model) -> dict:
    """Operators of a TFLite model with versions, counts and compute classes.

    Args:
        model: path of a `.tflite` file or its bytes.

    Returns:
        `{"operators": [{"op", "version", "count", "compute": {class: count}}],
        "compute_classes": {class: count}, "float_ops": {op: count},
        "custom_ops": [names], "tensor_types": {type: count}}`, operators sorted by name.
    """
    schema = _schema()
    content = _read(model)
    root = schema.Model.GetRootAsModel(content, 0)
    op_names = _enum_names(schema.BuiltinOperator)
    type_names = _enum_names(schema.TensorType)

    codes = []
    for i in range(root.OperatorCodesLength()):
        code = root.OperatorCodes(i)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = op_names.get(builtin, f"BUILTIN_{builtin}")
        if name == "CUSTOM":
            custom = code.CustomCode()
            name = custom.decode("utf-8") if custom else "CUSTOM"
            codes.append((name, code.Version(), True))
        else:
            codes.append((name, code.Version(), False))

    per_op = collections.defaultdict(lambda: collections.Counter())
    classes = collections.Counter()
    float_ops = collections.Counter()
    tensor_types = collections.Counter()
    for s in range(root.SubgraphsLength()):
        subgraph = root.Subgraphs(s)

        def tensor_type(index):
            tensor = subgraph.Tensors(index)
            return type_names.get(tensor.Type(), str(tensor.Type()))

        def is_constant(index):
            tensor = subgraph.Tensors(index)
            buffer = root.Buffers(tensor.Buffer())
            return buffer is not None and (buffer.DataLength() > 0 or buffer.Size() > 0)

        for t in range(subgraph.TensorsLength()):
            tensor_types[tensor_type(t)] += 1
        for o in range(subgraph.OperatorsLength()):
            op = subgraph.Operators(o)
            name, version, custom = codes[op.OpcodeIndex()]
            inputs = [i for i in op.InputsAsNumpy().tolist() if i >= 0] \
                if op.InputsLength() else []
            outputs = [i for i in op.OutputsAsNumpy().tolist() if i >= 0] \
                if op.OutputsLength() else []
            if custom:
                compute = "custom"
            else:
                compute = _compute_class(
                    name, [tensor_type(i) for i in outputs],
                    [tensor_type(i) for i in inputs if is_constant(i)],
                    [tensor_type(i) for i in inputs if not is_constant(i)])
            per_op[(name, version)][compute] += 1
            classes[compute] += 1
            if compute == "float":
                float_ops[name] += 1

    operators = [{"op": name, "version": version, "count": sum(counter.values()),
                  "compute": dict(sorted(counter.items()))}
                 for (name, version), counter in sorted(per_op.items())]
    return {
        "operators": operators,
        "compute_classes": dict(sorted(classes.items())),
        "float_ops": dict(sorted(float_ops.items())),
        "custom_ops": sorted({name for name, _, custom in codes if custom}),
        "tensor_types": dict(sorted(tensor_types.items())),
    }
