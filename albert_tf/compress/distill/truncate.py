"""`truncate` students: an ALBERT teacher with fewer layer calls and, optionally, a narrower FFN.

ALBERT shares its encoder parameters across depth, so running a group fewer times keeps every
weight and only removes compute: the student with `num_layers = k · num_groups` computes
exactly the teacher's hidden state after `k` calls per group. A narrower feed-forward block
keeps the intermediate units with the largest `‖W_in[:, j]‖ · ‖W_out[j, :]‖` (in their
original order), the units through which the most signal can pass.
"""

from __future__ import annotations

import keras
import keras_hub
import numpy as np

from albert_tf.compress.distill.tokenization import copy_preprocessor
from albert_tf.errors import UserError


def feedforward_units_to_keep(layer, intermediate_dim: int) -> np.ndarray:
    """Indices (sorted) of the `intermediate_dim` most important FFN units of an encoder layer.

    Args:
        layer: a built keras-hub `TransformerEncoder`.
        intermediate_dim: how many units to keep.
    """
    w_in = keras.ops.convert_to_numpy(layer._feedforward_intermediate_dense.kernel)
    w_out = keras.ops.convert_to_numpy(layer._feedforward_output_dense.kernel)
    importance = np.linalg.norm(w_in, axis=0) * np.linalg.norm(w_out, axis=1)
    return np.sort(np.argsort(-importance, kind="stable")[:intermediate_dim])


def copy_encoder_layer(source, target, units: np.ndarray | None = None) -> None:
    """Copy a `TransformerEncoder`'s weights into another, optionally keeping FFN `units` only.

    Args:
        source: the built layer to copy from.
        target: a built layer of the same width (its intermediate size may be smaller).
        units: FFN unit indices to keep (None copies everything).
    """
    for name in ("_self_attention_layer", "_self_attention_layer_norm", "_feedforward_layer_norm"):
        getattr(target, name).set_weights(getattr(source, name).get_weights())
    kernel_in, bias_in = source._feedforward_intermediate_dense.get_weights()
    kernel_out, bias_out = source._feedforward_output_dense.get_weights()
    if units is not None:
        kernel_in, bias_in, kernel_out = kernel_in[:, units], bias_in[units], kernel_out[units]
    target._feedforward_intermediate_dense.set_weights([kernel_in, bias_in])
    target._feedforward_output_dense.set_weights([kernel_out, bias_out])


def truncate_student(teacher, num_layers: int | None = None, intermediate_dim: int | None = None,
                     sequence_length: int | None = None):
    """An ALBERT student made from an ALBERT teacher by dropping layer calls and FFN units.

    Args:
        teacher: a keras-hub ALBERT text classifier (its backbone an `AlbertBackbone`).
        num_layers: encoder calls of the student (a multiple of the teacher's `num_groups`,
            at most the teacher's `num_layers`); default: the teacher's.
        intermediate_dim: FFN width of the student (at most the teacher's); default: the
            teacher's.
        sequence_length: the student preprocessor's sequence length; default: the teacher's.

    Returns:
        A classifier of the teacher's class with the teacher's tokenizer and weights.
    """
    backbone = teacher.backbone
    if not isinstance(backbone, keras_hub.models.AlbertBackbone):
        raise UserError(f"'truncate' needs an ALBERT teacher; this teacher's backbone is "
                        f"{type(backbone).__name__} (use 'albertize' for BERT teachers)")
    config = backbone.get_config()
    num_layers = int(num_layers or config["num_layers"])
    intermediate_dim = int(intermediate_dim or config["intermediate_dim"])
    if num_layers > config["num_layers"] or num_layers % config["num_groups"]:
        raise UserError(f"num_layers must be a multiple of the teacher's num_groups "
                        f"({config['num_groups']}) and at most its num_layers "
                        f"({config['num_layers']}). Received: {num_layers}")
    if not 1 <= intermediate_dim <= config["intermediate_dim"]:
        raise UserError(f"intermediate_dim must lie in [1, {config['intermediate_dim']}]. "
                        f"Received: {intermediate_dim}")
    student_backbone = type(backbone).from_config(
        {**config, "num_layers": num_layers, "intermediate_dim": intermediate_dim})
    for name in ("token_embedding", "position_embedding", "segment_embedding",
                 "embeddings_layer_norm", "embeddings_projection", "pooled_dense"):
        getattr(student_backbone, name).set_weights(getattr(backbone, name).get_weights())
    for source_group, target_group in zip(backbone.transformer_layers,
                                          student_backbone.transformer_layers):
        for source, target in zip(source_group, target_group):
            units = None
            if intermediate_dim < config["intermediate_dim"]:
                units = feedforward_units_to_keep(source, intermediate_dim)
            copy_encoder_layer(source, target, units)
    student = type(teacher)(
        backbone=student_backbone,
        preprocessor=copy_preprocessor(teacher.preprocessor, sequence_length),
        num_classes=teacher.num_classes,
        activation=teacher.activation,
        dropout=teacher.dropout,
    )
    student.output_dense.set_weights(teacher.output_dense.get_weights())
    return student
