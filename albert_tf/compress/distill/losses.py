"""Distillation losses, as `keras.distillation.DistillationLoss` subclasses.

Keras' own `LogitsDistillation` is not used for the soft labels: in Keras 3.15 its default
`loss="kl_divergence"` resolves to the plain function, which fails the `isinstance(...,
KLDivergence)` check, so the KL is taken between raw scaled logits and the T² factor is dropped
(only passing a `keras.losses.KLDivergence()` instance gives the textbook loss). Here the KL is
computed from log-softmax directly (no probability clipping), which the tests check against the
textbook value. `FeatureDistillation` has no padding mask; hidden states of padded positions
are noise that must not be matched, hence the masked losses below.
"""

from __future__ import annotations

import keras
from keras import ops

# Keeps log() finite on exactly-zero attention probabilities (masked keys).
_PROBABILITY_FLOOR = 1e-9


def weighted_mean(values, weights=None):
    """Mean of `values`, or with `weights` (same shape) their weighted mean: the positions
    with weight 0 (a tagger's padding and continuation sub-tokens) count for nothing."""
    if weights is None:
        return ops.mean(values)
    weights = ops.cast(weights, "float32")
    return ops.sum(values * weights) / ops.maximum(ops.sum(weights), 1e-9)


class SoftLabelDistillation(keras.distillation.DistillationLoss):
    """`T² · KL(softmax(teacher/T) ‖ softmax(student/T))`, averaged over the batch.

    The T² factor keeps the soft-label gradients on the same scale as the hard-label loss's
    when T changes (Hinton et al., 2015). Sentence logits are `(batch, classes)`; a token
    classifier's are `(batch, sequence, classes)`, averaged over the positions that `weights`
    marks (each word's first sub-token).

    Args:
        temperature: softening temperature, > 0.
    """

    def __init__(self, temperature: float = 2.0):
        self.temperature = float(temperature)

    def compute_loss(self, teacher_outputs, student_outputs, weights=None, **kwargs):
        t = ops.cast(teacher_outputs, "float32") / self.temperature
        s = ops.cast(student_outputs, "float32") / self.temperature
        teacher_log_probs = ops.log_softmax(t, axis=-1)
        student_log_probs = ops.log_softmax(s, axis=-1)
        kl = ops.sum(ops.exp(teacher_log_probs) * (teacher_log_probs - student_log_probs), axis=-1)
        return weighted_mean(kl, weights) * self.temperature**2

    def get_config(self):
        return {"temperature": self.temperature}


def _token_weights(padding_mask):
    """Float `(batch, sequence)` weights, 1 for real tokens."""
    return ops.cast(padding_mask, "float32")


class HiddenStateDistillation(keras.distillation.DistillationLoss):
    """Mean squared error between hidden states over real (unpadded) tokens.

    The student's hidden state is expected already projected to the teacher's width.
    """

    def compute_loss(self, teacher_outputs, student_outputs, padding_mask=None, **kwargs):
        teacher = ops.cast(teacher_outputs, "float32")
        student = ops.cast(student_outputs, "float32")
        squared = ops.mean(ops.square(student - teacher), axis=-1)  # (batch, sequence)
        if padding_mask is None:
            return ops.mean(squared)
        weights = _token_weights(padding_mask)
        return ops.sum(squared * weights) / ops.maximum(ops.sum(weights), 1.0)


class AttentionDistillation(keras.distillation.DistillationLoss):
    """`KL(A_teacher ‖ A_student)` of every head's attention row, over real query tokens.

    Both inputs are probabilities `(batch, heads, query, key)` with the same number of heads
    (MiniLM-style attention transfer).
    """

    def compute_loss(self, teacher_outputs, student_outputs, padding_mask=None, **kwargs):
        teacher = ops.cast(teacher_outputs, "float32")
        student = ops.cast(student_outputs, "float32")
        kl = ops.sum(teacher * (ops.log(teacher + _PROBABILITY_FLOOR)
                                - ops.log(student + _PROBABILITY_FLOOR)), axis=-1)
        kl = ops.mean(kl, axis=1)  # over heads -> (batch, query)
        if padding_mask is None:
            return ops.mean(kl)
        weights = _token_weights(padding_mask)
        return ops.sum(kl * weights) / ops.maximum(ops.sum(weights), 1.0)


def hard_label_loss(labels, logits, weights=None):
    """Sparse categorical cross-entropy from logits, averaged over the batch.

    Args:
        labels: int `(batch,)` class ids, or `(batch, sequence)` token labels.
        logits: `(batch, classes)`, or `(batch, sequence, classes)`.
        weights: None, or `(batch, sequence)` weights of the token labels (0: not scored).
    """
    return weighted_mean(keras.losses.sparse_categorical_crossentropy(
        ops.cast(labels, "int32"), ops.cast(logits, "float32"), from_logits=True), weights)
