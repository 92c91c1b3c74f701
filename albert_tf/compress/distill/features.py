"""What a distiller reads out of a keras-hub text classifier: logits, hidden states, attention.

keras-hub backbones are functional graphs, and ALBERT calls one shared `TransformerEncoder`
several times, so `layer.output` (what `keras.distillation.FeatureDistillation` uses) is
ambiguous for it. Here the graph is walked back from the backbone's `sequence_output` through
the chain of encoder calls: every call is a node with its own input and output tensor, whether
the layer is shared (ALBERT) or not (BERT). A new functional model over those tensors shares the
classifier's weights and returns, in one forward pass,

* `logits`: the classifier head replayed on the backbone's pooled (or sequence) output,
* `hidden_<i>`: the hidden state after encoder call `i` (`hidden_0` is the embedding output
  that enters the first call, after ALBERT's embedding projection),
* `attention_<i>`: the attention probabilities of encoder call `i`, shape
  `(batch, heads, query, key)`, recomputed from the call's input with the layer's own query and
  key projections (the encoder does not return them from inside the backbone graph).
"""

from __future__ import annotations

import dataclasses
import math

import keras
from keras_hub.layers import TransformerEncoder

from albert_tf.errors import UserError


@dataclasses.dataclass(frozen=True)
class EncoderCall:
    """One call of a transformer encoder layer inside a backbone's functional graph.

    Args:
        layer: the `TransformerEncoder` called (the same object for every call of a shared
            ALBERT group).
        inputs: symbolic hidden state entering the call.
        outputs: symbolic hidden state leaving the call.
    """

    layer: TransformerEncoder
    inputs: keras.KerasTensor
    outputs: keras.KerasTensor


def encoder_calls(backbone: keras.Model) -> list[EncoderCall]:
    """The encoder calls of a keras-hub text backbone, first to last.

    Args:
        backbone: a functional keras-hub backbone whose `sequence_output` is the output of a
            chain of `TransformerEncoder` calls (BERT, ALBERT, and models built like them).

    Returns:
        One `EncoderCall` per call; `calls[0].inputs` is the embedding output.
    """
    outputs = getattr(backbone, "output", None)
    if not isinstance(outputs, dict) or "sequence_output" not in outputs:
        raise UserError(f"{type(backbone).__name__} has no 'sequence_output': hidden-state and "
                        "attention transfer need a keras-hub text backbone (BERT or ALBERT)")
    calls = []
    tensor = outputs["sequence_output"]
    while True:
        operation, node_index, _ = tensor._keras_history
        if not isinstance(operation, TransformerEncoder):
            break
        node = operation._inbound_nodes[node_index]
        previous = node.arguments.args[0]
        calls.append(EncoderCall(operation, previous, tensor))
        tensor = previous
    if not calls:
        raise UserError(f"{type(backbone).__name__}: its sequence_output does not come from a "
                        "TransformerEncoder, so its hidden states cannot be read out")
    return calls[::-1]


def num_hidden_states(classifier) -> int:
    """Number of encoder calls of `classifier`'s backbone (hidden states 1..n; 0 is the
    embedding output)."""
    return len(encoder_calls(classifier.backbone))


def hidden_width(classifier) -> int:
    """Width of the hidden states (the encoder's model dimension)."""
    return int(encoder_calls(classifier.backbone)[0].outputs.shape[-1])


def attention_heads(classifier) -> int:
    """Attention heads per encoder layer (all layers of a keras-hub backbone have the same)."""
    return int(encoder_calls(classifier.backbone)[0].layer.num_heads)


def attention_probabilities(layer: TransformerEncoder, inputs, padding_mask):
    """Attention probabilities of `layer` applied to `inputs`, `(batch, heads, query, key)`.

    Mirrors `keras.layers.MultiHeadAttention` as keras-hub's encoder calls it: queries scaled
    by `1/sqrt(key_dim)`, padded keys masked out, softmax over keys; only the query and key
    projections run (the value and output projections are not needed).

    Args:
        layer: a built keras-hub `TransformerEncoder`.
        inputs: hidden state entering the layer, `(batch, sequence, hidden)`.
        padding_mask: `(batch, sequence)`, true / 1 for real tokens.
    """
    x = inputs
    if layer.normalize_first:
        x = layer._self_attention_layer_norm(x)
    attention = layer._self_attention_layer
    query = attention._query_dense(x)  # (batch, query, heads, key_dim)
    key = attention._key_dense(x)
    query = keras.ops.multiply(query, 1.0 / math.sqrt(float(attention._key_dim)))
    scores = keras.ops.einsum("bqhd,bkhd->bhqk", query, key)
    key_mask = keras.ops.expand_dims(keras.ops.cast(padding_mask, "bool"), axis=(1, 2))
    # Same large negative as Keras' masked softmax, so fully padded rows behave alike.
    scores = keras.ops.where(key_mask, scores, keras.ops.full_like(scores, -1e9))
    return keras.ops.softmax(scores, axis=-1)


class AttentionProbabilities(keras.layers.Layer):
    """Reads one encoder call's attention probabilities inside a functional graph.

    The encoder's query/key projections are named alike in every layer (`query`, `key`), and a
    functional model needs unique operation names, so each read-out is one uniquely named
    layer that calls `attention_probabilities` with the encoder it refers to.

    Args:
        encoder: the `TransformerEncoder` whose attention to read (its weights are shared,
            not copied).
    """

    def __init__(self, encoder: TransformerEncoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder

    def call(self, inputs, padding_mask):
        return attention_probabilities(self.encoder, inputs, padding_mask)


def _head_chain(classifier) -> tuple[keras.KerasTensor, list]:
    """The backbone output tensor the head reads, and the head's layers in call order.

    keras-hub text classifiers apply a chain of single-input layers (dropout, dense) to one
    backbone output; anything else cannot be replayed and is rejected.
    """
    backbone = classifier.backbone
    tensor = classifier.output
    layers = []
    while True:
        operation, node_index, tensor_index = tensor._keras_history
        if operation is backbone:
            break
        node = operation._inbound_nodes[node_index]
        if len(node.arguments.keras_tensors) != 1:
            raise UserError(f"{type(classifier).__name__}: the classifier head is not a chain "
                            "of single-input layers on a backbone output, so it cannot be "
                            "distilled with hidden states")
        layers.append(operation)
        tensor = node.arguments.keras_tensors[0]
    # The backbone node's outputs are its output structure flattened the same way.
    return keras.tree.flatten(backbone.output)[tensor_index], layers[::-1]


def check_logits_head(classifier, role: str) -> None:
    """Raise a `UserError` unless `classifier` outputs raw logits (no softmax / sigmoid)."""
    activation = getattr(classifier, "activation", None)
    if activation is not None and activation is not keras.activations.linear:
        name = getattr(activation, "__name__", activation)
        raise UserError(f"the {role} classifier applies {name} to its outputs; distillation "
                        "needs raw logits (activation=None)")


def feature_model(classifier, hidden_indices=(), attention_indices=()) -> keras.Model:
    """A functional model sharing `classifier`'s weights that returns logits and features.

    Args:
        classifier: a keras-hub `TextClassifier` (or any classifier whose backbone is a
            keras-hub text backbone and whose head is a chain of layers on one backbone output).
        hidden_indices: hidden states to return (0 = embedding output, i = after call i).
        attention_indices: encoder calls (1-based) whose attention probabilities to return.

    Returns:
        A `keras.Model` taking the backbone's input dict and returning a dict with `logits`,
        `hidden_<i>` and `attention_<i>`.
    """
    backbone = classifier.backbone
    logits, head = _head_chain(classifier)
    for layer in head:
        logits = layer(logits)
    outputs = {"logits": logits}
    if hidden_indices or attention_indices:
        calls = encoder_calls(backbone)
        hidden = [calls[0].inputs] + [call.outputs for call in calls]
        for index in hidden_indices:
            if not 0 <= index < len(hidden):
                raise UserError(f"hidden state {index} does not exist: the model has hidden "
                                f"states 0..{len(hidden) - 1} (0 = embedding output)")
            outputs[f"hidden_{index}"] = hidden[index]
        padding_mask = backbone.input["padding_mask"]
        for index in attention_indices:
            if not 1 <= index <= len(calls):
                raise UserError(f"attention of layer call {index} does not exist: the model "
                                f"has calls 1..{len(calls)}")
            call = calls[index - 1]
            outputs[f"attention_{index}"] = AttentionProbabilities(
                call.layer, name=f"attention_probabilities_{index}")(call.inputs, padding_mask)
    return keras.Model(backbone.input, outputs, name=f"{classifier.name}_features")
