"""How much each attention head, FFN neuron and transformer layer matters.

Scores are computed per distinct `TransformerEncoder` of an ALBERT backbone (one per group and
inner repetition; a layer shared across repetitions is scored once, over all its uses).

* `magnitude` (no data): a head's score is the L2 norm of its query, key, value columns and
  output-projection rows; a neuron's is `||W_in[:, n]|| * ||W_out[n, :]||`; a layer's is the
  Frobenius norm of the two projections that write into the residual stream (attention output
  and FFN output), i.e. how much it can change the hidden state.
* `taylor` (calibration batches, a classifier): first-order Taylor estimate of the loss change
  when the structure is removed (Molchanov et al., 2019; Michel et al., 2019). Removing head h
  equals multiplying its output by a gate fixed at 0; the loss gradient with respect to that
  gate is `sum(dL/dW_o[h] * W_o[h])`, because the output projection is linear in the head's
  output. The same holds for neuron n with the FFN output rows `W_out[n]`, and for a layer
  with both residual projections (kernels and biases). Scores are `|gate gradient|`, summed
  over batches. With shared weights the gradient already sums over every repetition, which is
  what removing the head from the shared layer does.
"""

import dataclasses
import logging

import keras
import numpy as np
from keras import ops

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

IMPORTANCE_METHODS = ("magnitude", "taylor")


@dataclasses.dataclass
class EncoderImportance:
    """Scores of one transformer layer's structures (higher = more important).

    Args:
        heads: one score per attention head.
        neurons: one score per FFN intermediate neuron.
        layer: score of the whole layer (for dropping groups or inner repetitions).
    """

    heads: np.ndarray
    neurons: np.ndarray
    layer: float


def _attention_parts(encoder):
    attention = encoder._self_attention_layer
    return (attention._query_dense, attention._key_dense, attention._value_dense,
            attention._output_dense)


def _numpy(value) -> np.ndarray:
    # Variables have .numpy(); np.array(variable) warns about the `copy` keyword.
    value = value.numpy() if isinstance(value, keras.Variable) else ops.convert_to_numpy(value)
    return np.asarray(value, dtype=np.float64)


def encoder_magnitude_importance(encoder) -> EncoderImportance:
    """Magnitude scores of one `TransformerEncoder` (see module docstring).

    Args:
        encoder: a built keras-hub `TransformerEncoder`.
    """
    query, key, value, output = _attention_parts(encoder)
    # q/k/v kernels are (hidden, heads, head_dim); the output kernel is (heads, head_dim, hidden).
    head_sq = sum(np.sum(_numpy(dense.kernel) ** 2, axis=(0, 2)) for dense in (query, key, value))
    head_sq = head_sq + np.sum(_numpy(output.kernel) ** 2, axis=(1, 2))
    w_in = _numpy(encoder._feedforward_intermediate_dense.kernel)
    w_out = _numpy(encoder._feedforward_output_dense.kernel)
    neurons = np.linalg.norm(w_in, axis=0) * np.linalg.norm(w_out, axis=1)
    layer = float(np.linalg.norm(_numpy(output.kernel)) + np.linalg.norm(w_out))
    return EncoderImportance(np.sqrt(head_sq), neurons, layer)


def magnitude_importance(backbone) -> list[list[EncoderImportance]]:
    """Magnitude scores for every transformer layer, as `[group][inner repetition]`.

    Args:
        backbone: a keras-hub `AlbertBackbone` (or `AlbertSlimBackbone`).
    """
    return [[encoder_magnitude_importance(encoder) for encoder in group]
            for group in backbone.transformer_layers]


def _classifier_loss(classifier):
    activation = getattr(classifier, "activation", None)
    from_logits = activation is None or getattr(activation, "__name__", "") != "softmax"
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)


def _token_inputs(classifier, features):
    if isinstance(features, dict) and "token_ids" in features:
        return features
    if classifier.preprocessor is None:
        raise UserError("calibration data must be tokenised (dicts with token_ids, "
                        "segment_ids, padding_mask) when the classifier has no preprocessor")
    return classifier.preprocessor(features)


def taylor_importance(classifier, batches, num_batches: int = 8) -> list[list[EncoderImportance]]:
    """First-order Taylor scores from a few labelled batches (see module docstring).

    Args:
        classifier: a keras-hub ALBERT text classifier.
        batches: iterable of `(features, labels)` or `(features, labels, weights)`; features
            are token dicts, or raw strings when the classifier has a preprocessor.
        num_batches: how many batches to use.

    Returns:
        Scores as `[group][inner repetition]`.
    """
    import tensorflow as tf

    if num_batches < 1:
        raise UserError(f"num_batches must be >= 1. Received: {num_batches}")
    encoders = [encoder for group in classifier.backbone.transformer_layers for encoder in group]
    variables = []
    for encoder in encoders:
        output = _attention_parts(encoder)[3]
        ffn_out = encoder._feedforward_output_dense
        variables += [output.kernel, output.bias, ffn_out.kernel, ffn_out.bias]
    loss_fn = _classifier_loss(classifier)
    heads = [np.zeros(e.num_heads) for e in encoders]
    neurons = [np.zeros(e.intermediate_dim) for e in encoders]
    layers = [0.0 for _ in encoders]
    used = 0
    for batch in batches:
        if used == num_batches:
            break
        features, labels = batch[0], batch[1]
        weights = batch[2] if len(batch) > 2 else None  # a tagger's: first sub-tokens only
        features = _token_inputs(classifier, features)
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, classifier(features, training=False), sample_weight=weights)
        grads = tape.gradient(loss, variables)
        for index in range(len(encoders)):
            w_o, b_o, w_f, b_f = (_numpy(v) for v in variables[4 * index:4 * index + 4])
            g_o, gb_o, g_f, gb_f = (_numpy(g) for g in grads[4 * index:4 * index + 4])
            heads[index] += np.abs(np.sum(g_o * w_o, axis=(1, 2)))
            neurons[index] += np.abs(np.sum(g_f * w_f, axis=1))
            layers[index] += (abs(np.sum(g_o * w_o) + np.sum(gb_o * b_o))
                              + abs(np.sum(g_f * w_f) + np.sum(gb_f * b_f)))
        used += 1
    if used == 0:
        raise UserError("Taylor importance needs calibration batches, but the data was empty")
    logger.info("Taylor importance from %d calibration batches", used)
    scores = iter([EncoderImportance(h, n, float(l)) for h, n, l in zip(heads, neurons, layers)])
    return [[next(scores) for _ in group] for group in classifier.backbone.transformer_layers]
