"""Floating-point operations of one forward pass, counted from the model configuration.

Only the matrix products are counted (2 FLOPs per multiply-add): they are > 95 % of the work
of a BERT-family encoder at these sizes, and they are what a matmul peak can be compared with.
Embedding lookups, LayerNorm, softmax, GELU and residual adds are left out.

Per example of `L` tokens (`H` hidden, `E` embedding, `I` FFN width, `A = heads * head_dim`):

* embedding projection (ALBERT's factorised embedding, `E != H` or not): `2 L E H`;
* per application of a transformer layer: Q, K, V `3 * 2 L H A`, scores `2 L L A`, weighted
  values `2 L L A`, attention output `2 L A H`, FFN `2 L H I + 2 L I H`;
* ALBERT shares layers, which saves parameters, not FLOPs: a layer is applied
  `num_layers * num_inner_repetitions` times;
* pooler `2 H H` and classification head `2 H C` on the `[CLS]` vector only.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class EncoderShape:
    """The sizes FLOPs depend on.

    Args:
        layer_applications: transformer layers run per forward pass (shared ones counted
            every time they run).
        hidden_dim: width of the hidden states.
        intermediate_dim: width of the feed-forward layer.
        num_heads: attention heads.
        head_dim: size of each head.
        embedding_dim: size of the token embedding, or None when there is no projection
            (BERT embeds straight into `hidden_dim`).
        num_classes: outputs of the classification head.
    """

    layer_applications: int
    hidden_dim: int
    intermediate_dim: int
    num_heads: int
    head_dim: int
    embedding_dim: int | None
    num_classes: int


def encoder_shape(model) -> EncoderShape:
    """The `EncoderShape` of a keras-hub ALBERT / BERT text classifier (or slim ALBERT)."""
    backbone = model.backbone
    config = backbone.get_config()
    hidden = int(config["hidden_dim"])
    heads = int(config["num_heads"])
    head_dim = config.get("head_dim") or hidden // heads
    applications = int(config["num_layers"]) * int(config.get("num_inner_repetitions", 1))
    embedding = config.get("embedding_dim")
    return EncoderShape(layer_applications=applications, hidden_dim=hidden,
                        intermediate_dim=int(config["intermediate_dim"]), num_heads=heads,
                        head_dim=int(head_dim),
                        embedding_dim=None if embedding is None else int(embedding),
                        num_classes=int(model.num_classes))


def count_flops(shape: EncoderShape, sequence_length: int, batch_size: int = 1) -> dict:
    """FLOPs of one forward pass of `batch_size` examples of `sequence_length` tokens.

    Returns:
        `{"embedding_projection", "attention", "ffn", "pooler_head", "total"}` (integers,
        whole batch); attention and FFN summed over every layer application.
    """
    L, H, I = sequence_length, shape.hidden_dim, shape.intermediate_dim
    A = shape.num_heads * shape.head_dim
    projection = 0 if shape.embedding_dim is None else 2 * L * shape.embedding_dim * H
    attention = 3 * 2 * L * H * A + 2 * 2 * L * L * A + 2 * L * A * H
    ffn = 2 * 2 * L * H * I
    pooler_head = 2 * H * H + 2 * H * shape.num_classes
    parts = {"embedding_projection": projection,
             "attention": attention * shape.layer_applications,
             "ffn": ffn * shape.layer_applications,
             "pooler_head": pooler_head}
    parts = {name: value * batch_size for name, value in parts.items()}
    parts["total"] = sum(parts.values())
    return parts


def model_flops(model, sequence_length: int, batch_size: int = 1) -> dict:
    """`count_flops` for a keras-hub classifier."""
    return count_flops(encoder_shape(model), sequence_length, batch_size)
