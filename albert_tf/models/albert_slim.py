"""ALBERT with the attention head size decoupled from the hidden size.

keras-hub's `AlbertBackbone` hands every `TransformerEncoder` only `num_heads`; the encoder
derives the head size as `hidden_dim // num_heads` when it is built. Removing attention heads
keeps each remaining head's size (its query/key/value columns and output rows are sliced, not
reshaped), so after head pruning `num_heads * head_dim < hidden_dim` and the stock classes can
no longer describe the model.

This module breaks that coupling with three small classes, registered with Keras so that
`save_to_preset` / `from_preset` round-trip exactly:

* `SlimTransformerEncoder`: keras-hub's `TransformerEncoder` with an explicit `head_dim`; its
  `build` mirrors the parent's (keras-hub 0.32) except that the attention `key_dim` is
  `head_dim`. Layer and weight names are the parent's, so weights map one to one.
* `AlbertSlimBackbone`: a subclass of `AlbertBackbone` whose constructor takes `head_dim`
  (saved in `get_config`) and builds the same functional graph as the parent with
  `SlimTransformerEncoder` layers. It is an `AlbertBackbone` for every `isinstance` check.
* `AlbertSlimTextClassifier`: `AlbertTextClassifier` with `backbone_cls = AlbertSlimBackbone`,
  which keras-hub's `TextClassifier.from_preset(folder)` needs to find the task class for a
  preset whose backbone is slim.

Import this module before loading a slim preset (importing `albert_tf.compress.prune` does), so
the registered names `albert_tf>AlbertSlimBackbone` and `albert_tf>AlbertSlimTextClassifier`
resolve.

Example:
```python
backbone = AlbertSlimBackbone(vocabulary_size=100, num_layers=2, num_heads=3, head_dim=8,
                              embedding_dim=16, hidden_dim=32, intermediate_dim=48)
classifier = AlbertSlimTextClassifier(backbone, num_classes=2)
```
"""

import keras
import keras_hub
from keras.layers import ReversibleEmbedding
from keras_hub.src.layers.modeling.position_embedding import PositionEmbedding
from keras_hub.src.models.albert.albert_backbone import albert_kernel_initializer
from keras_hub.src.utils.keras_utils import clone_initializer, gelu_approximate

AlbertBackbone = keras_hub.models.AlbertBackbone
AlbertTextClassifier = keras_hub.models.AlbertTextClassifier


@keras.saving.register_keras_serializable(package="albert_tf")
class SlimTransformerEncoder(keras_hub.layers.TransformerEncoder):
    """keras-hub `TransformerEncoder` whose attention head size is a parameter.

    Args:
        head_dim: int or None. Size of each attention head (the `key_dim` and `value_dim` of
            the attention layer). `None` keeps keras-hub's `hidden_dim // num_heads`.
        **kwargs: the arguments of `keras_hub.layers.TransformerEncoder`.
    """

    def __init__(self, head_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.head_dim = head_dim

    def build(self, inputs_shape):
        # Mirrors keras-hub 0.32 `TransformerEncoder.build`; only `key_dim` differs.
        hidden_dim = inputs_shape[-1]
        key_dim = self.head_dim or int(hidden_dim // self.num_heads)
        if key_dim <= 0:
            raise ValueError(
                f"Attention `key_dim` must be positive. Received: `head_dim={self.head_dim}`, "
                f"`hidden_dim={hidden_dim}` and `num_heads={self.num_heads}`.")
        self._self_attention_layer = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=key_dim,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="self_attention_layer",
        )
        self._self_attention_layer.build(query_shape=inputs_shape, value_shape=inputs_shape)
        self._self_attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="self_attention_layer_norm",
        )
        self._self_attention_layer_norm.build(inputs_shape)
        self._self_attention_dropout = keras.layers.Dropout(
            rate=self.dropout, dtype=self.dtype_policy, name="self_attention_dropout")
        self._feedforward_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="feedforward_layer_norm",
        )
        self._feedforward_layer_norm.build(inputs_shape)
        self._feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_intermediate_dense",
        )
        self._feedforward_intermediate_dense.build(inputs_shape)
        self._feedforward_output_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_output_dense",
        )
        intermediate_shape = list(inputs_shape)
        intermediate_shape[-1] = self.intermediate_dim
        self._feedforward_output_dense.build(tuple(intermediate_shape))
        self._feedforward_dropout = keras.layers.Dropout(
            rate=self.dropout, dtype=self.dtype_policy, name="feedforward_dropout")
        self.built = True

    def get_config(self):
        config = super().get_config()
        config["head_dim"] = self.head_dim
        return config


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSlimBackbone(AlbertBackbone):
    """ALBERT encoder whose attention heads may be narrower than `hidden_dim / num_heads`.

    The graph, layer names and weights are those of `keras_hub.models.AlbertBackbone`; the
    only difference is `head_dim`, so a slim backbone with
    `head_dim == hidden_dim // num_heads` computes exactly what the stock backbone computes.

    Args:
        vocabulary_size: int. Size of the token vocabulary.
        num_layers: int, divisible by `num_groups`. Number of times the groups are applied.
        num_heads: int. Attention heads per transformer layer.
        embedding_dim: int. Size of the factorized token embeddings.
        hidden_dim: int. Size of the transformer hidden states.
        intermediate_dim: int. Width of the feed-forward layer.
        head_dim: int or None. Size of each attention head; `None` gives
            `hidden_dim // num_heads`, as in keras-hub.
        num_groups: int. Number of distinct groups of transformer layers.
        num_inner_repetitions: int. Transformer layers per group.
        dropout: float. Dropout probability.
        max_sequence_length: int. Longest input the position embedding covers.
        num_segments: int. Number of segment ids.
        dtype: string or `keras.DTypePolicy`. Compute and variable dtype.
        **kwargs: passed to `keras.Model` (`name`, `trainable`).
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        embedding_dim,
        hidden_dim,
        intermediate_dim,
        head_dim=None,
        num_groups=1,
        num_inner_repetitions=1,
        dropout=0.0,
        max_sequence_length=512,
        num_segments=2,
        dtype=None,
        **kwargs,
    ):
        if num_layers % num_groups != 0:
            raise ValueError(
                "`num_layers` must be divisible by `num_groups`. Received: "
                f"`num_layers={num_layers}` and `num_groups={num_groups}`.")

        # === Layers (same names as AlbertBackbone, so weights map one to one) ===
        self.token_embedding = ReversibleEmbedding(
            input_dim=vocabulary_size,
            output_dim=embedding_dim,
            embeddings_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            initializer=albert_kernel_initializer(),
            sequence_length=max_sequence_length,
            dtype=dtype,
            name="position_embedding",
        )
        self.segment_embedding = keras.layers.Embedding(
            input_dim=num_segments,
            output_dim=embedding_dim,
            embeddings_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="segment_embedding",
        )
        self.embeddings_add = keras.layers.Add(dtype=dtype, name="embeddings_add")
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            axis=-1, epsilon=1e-12, dtype=dtype, name="embeddings_layer_norm")
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout")
        self.embeddings_projection = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=albert_kernel_initializer(),
            dtype=dtype,
            name="embedding_projection",
        )
        self.transformer_layers = []
        for group_idx in range(num_groups):
            inner_layers = []
            for inner_idx in range(num_inner_repetitions):
                inner_layers.append(SlimTransformerEncoder(
                    head_dim=head_dim,
                    num_heads=num_heads,
                    intermediate_dim=intermediate_dim,
                    activation=gelu_approximate,
                    dropout=dropout,
                    layer_norm_epsilon=1e-12,
                    kernel_initializer=albert_kernel_initializer(),
                    dtype=dtype,
                    name=f"group_{group_idx}_inner_layer_{inner_idx}",
                ))
            self.transformer_layers.append(inner_layers)
        self.pooled_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=albert_kernel_initializer(),
            activation="tanh",
            dtype=dtype,
            name="pooled_dense",
        )

        # === Functional model ===
        token_id_input = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_id_input = keras.Input(shape=(None,), dtype="int32", name="segment_ids")
        padding_mask_input = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        tokens = self.token_embedding(token_id_input)
        positions = self.position_embedding(tokens)
        segments = self.segment_embedding(segment_id_input)
        x = self.embeddings_add((tokens, positions, segments))
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        x = self.embeddings_projection(x)
        num_calls_per_group = num_layers // num_groups
        for group in self.transformer_layers:
            for _ in range(num_calls_per_group):
                for transformer_layer in group:
                    x = transformer_layer(x, padding_mask=padding_mask_input)
        sequence_output = x
        cls_token_index = 0
        pooled_output = self.pooled_dense(x[:, cls_token_index, :])
        # Skip AlbertBackbone.__init__ (it would build stock encoders); Backbone sets up Model.
        super(AlbertBackbone, self).__init__(
            inputs={
                "token_ids": token_id_input,
                "segment_ids": segment_id_input,
                "padding_mask": padding_mask_input,
            },
            outputs={"sequence_output": sequence_output, "pooled_output": pooled_output},
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.num_groups = num_groups
        self.num_inner_repetitions = num_inner_repetitions
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.cls_token_index = cls_token_index

    def get_config(self):
        config = super().get_config()
        config["head_dim"] = self.head_dim
        return config


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertSlimTextClassifier(AlbertTextClassifier):
    """`AlbertTextClassifier` over an `AlbertSlimBackbone` (same arguments and head)."""

    backbone_cls = AlbertSlimBackbone


def attention_head_dim(backbone) -> int:
    """Size of each attention head of an ALBERT backbone (stock or slim).

    Args:
        backbone: `keras_hub.models.AlbertBackbone` or `AlbertSlimBackbone`.
    """
    head_dim = getattr(backbone, "head_dim", None)
    return head_dim or int(backbone.hidden_dim // backbone.num_heads)
