"""`albertize`: turn a BERT-family teacher into an ALBERT student with ALBERT's own two ideas.

1. Factorised embeddings. BERT adds token, position and segment vectors in the hidden width H
   and layer-normalises the sum; ALBERT does the same in a smaller width E and then projects to
   H with `embeddings_projection`. A rotation alone cannot carry BERT's layer norm into E
   coordinates (its mean is taken over H coordinates), so the factorisation works in the space
   the layer norm sees, the sums with their mean removed (the vectors orthogonal to 1):

   * `V` (H × (E-1)): the top E-1 principal directions, within 1⊥, of the embedding sums
     `t + p + s` (a truncated SVD of their second-moment matrix, tokens, positions and segments
     drawn uniformly and independently);
   * `Q` (E × (E-1)): an orthonormal basis of 1⊥ in E dimensions (Helmert), so every
     student embedding sum `z = x V Qᵀ` has mean 0 and ALBERT's E-width layer norm (γ = 1,
     β = 0) only rescales it;
   * the tables become `W V Qᵀ` (vocab × E, positions × E, segments × E) and the projection is
     `sqrt(H/E) · Q Vᵀ diag(γ)` with bias β, BERT's own layer-norm scale and shift.

   With E = H, `V Vᵀ` is the exact projector onto 1⊥ and the student reproduces the teacher;
   with E < H the only approximation is dropping the sums' weakest directions.
2. Cross-layer sharing. The teacher's L layers are cut into G runs of consecutive layers (as even
   as possible when G does not divide L); each group becomes one shared ALBERT layer, either
   the weight average of its layers (`average`) or the member layer that, applied as often as
   the student calls the group, best reproduces the group's output on calibration texts
   (`select`).

Position and segment embeddings, the pooler (tanh dense) and the task head are copied, for
text classifiers and for token classifiers (taggers) alike; keras-hub's BERT and ALBERT use
the same encoder block (gelu_approximate, layer-norm epsilon 1e-12, post-norm), which the
identity test checks. The student keeps the teacher's WordPiece tokenizer: keras-hub's
`AlbertTextClassifier` takes a `BertTextClassifierPreprocessor` ([CLS]/[SEP]/[PAD] ids and
segment ids come from the BERT packer) and saves and loads as a preset with it, and an
`AlbertTokenClassifier` takes the teacher's `BertTokenClassifierPreprocessor` the same way.
"""

from __future__ import annotations

import logging
import math

import keras
import keras_hub
import numpy as np

from albert_tf.compress.distill.features import feature_model
from albert_tf.compress.distill.tokenization import copy_preprocessor
from albert_tf.errors import UserError
from albert_tf.text import tokenize

logger = logging.getLogger(__name__)

MERGE_METHODS = ("average", "select")


def helmert_basis(n: int) -> np.ndarray:
    """An orthonormal basis `(n, n-1)` of the vectors in R^n whose entries sum to zero.

    Args:
        n: dimension, >= 2.
    """
    basis = np.zeros((n, n - 1))
    for k in range(1, n):
        basis[:k, k - 1] = 1.0
        basis[k, k - 1] = -k
        basis[:, k - 1] /= math.sqrt(k * (k + 1))
    return basis


def _second_moment(tables: list[np.ndarray]) -> np.ndarray:
    """E[x xᵀ] of `x = Σ rows`, one row drawn uniformly and independently from each table."""
    means = [t.mean(axis=0) for t in tables]
    moment = sum(t.T @ t / len(t) for t in tables)
    for i in range(len(tables)):
        for j in range(len(tables)):
            if i != j:
                moment = moment + np.outer(means[i], means[j])
    return moment


def factorize_embeddings(token, position, segment, gamma, beta, embedding_dim: int) -> dict:
    """ALBERT's factorised embedding weights reproducing BERT's `LayerNorm(t + p + s)`.

    Args:
        token: `(vocab, H)` BERT token table.
        position: `(positions, H)` BERT position table.
        segment: `(segments, H)` BERT segment table.
        gamma: `(H,)` BERT embedding layer-norm scale.
        beta: `(H,)` BERT embedding layer-norm shift.
        embedding_dim: E, 2 <= E <= H.

    Returns:
        Dict with `token`, `position`, `segment` (E-wide tables), `norm_gamma`, `norm_beta`
        (E,), `projection_kernel` (E, H), `projection_bias` (H,), and `kept_energy`, the share
        of the centred embedding sums' second moment the E-1 kept directions carry.
    """
    token, position, segment = (np.asarray(t, np.float64) for t in (token, position, segment))
    hidden = token.shape[1]
    if not 2 <= embedding_dim <= hidden:
        raise UserError(f"embedding_dim must lie in [2, {hidden}] (the teacher's hidden width). "
                        f"Received: {embedding_dim}")
    centred_basis = helmert_basis(hidden)  # H x (H-1), spans 1⊥
    moment = centred_basis.T @ _second_moment([token, position, segment]) @ centred_basis
    eigenvalues, eigenvectors = np.linalg.eigh((moment + moment.T) / 2)
    order = np.argsort(eigenvalues)[::-1][:embedding_dim - 1]
    directions = centred_basis @ eigenvectors[:, order]  # V: H x (E-1)
    kept_energy = float(eigenvalues[order].sum() / max(eigenvalues.sum(), 1e-30))
    rotation = helmert_basis(embedding_dim)  # Q: E x (E-1)
    to_student = directions @ rotation.T  # H x E
    scale = math.sqrt(hidden / embedding_dim)
    return {
        "token": token @ to_student,
        "position": position @ to_student,
        "segment": segment @ to_student,
        "norm_gamma": np.ones(embedding_dim),
        "norm_beta": np.zeros(embedding_dim),
        "projection_kernel": scale * (rotation @ directions.T) * np.asarray(gamma)[None, :],
        "projection_bias": np.asarray(beta, np.float64),
        "kept_energy": kept_energy,
    }


def average_weights(layers) -> list[np.ndarray]:
    """The element-wise mean of same-shaped layers' weights, in `get_weights()` order."""
    weights = [layer.get_weights() for layer in layers]
    return [np.mean(np.stack(tensors), axis=0) for tensors in zip(*weights)]


def _masked_mse(a, b, mask) -> float:
    mask = mask.astype(np.float64)[..., None]
    return float(np.sum(np.square(a - b) * mask) / (np.sum(mask) * a.shape[-1]))


def _select_layer(candidates, group_input, group_output, padding_mask, repetitions) -> int:
    """Index of the candidate whose `repetitions`-fold application best maps input to output."""
    errors = []
    for layer in candidates:
        hidden = group_input
        for _ in range(repetitions):
            hidden = layer(hidden, padding_mask=padding_mask, training=False)
        errors.append(_masked_mse(keras.ops.convert_to_numpy(hidden), group_output, padding_mask))
    logger.info("select merge: reconstruction MSE per candidate layer %s",
                ", ".join(f"{e:.4g}" for e in errors))
    return int(np.argmin(errors))


def group_bounds(depth: int, num_groups: int) -> list[int]:
    """Where each of `num_groups` consecutive runs of `depth` teacher layers starts, plus `depth`
    at the end: as even as possible, `[0, 2, 3, 4, 6]` for 6 layers in 4 groups (Python's
    rounding of halves to even puts the two-layer runs at the ends).

    Args:
        depth: the teacher's layer count.
        num_groups: groups, 1..depth.
    """
    return [int(round(g * depth / num_groups)) for g in range(num_groups + 1)]


def albertize_student(teacher, embedding_dim: int = 128, num_groups: int = 1,
                      num_layers: int | None = None, merge: str = "average",
                      calibration_texts=None, sequence_length: int | None = None):
    """An ALBERT model made from a BERT one (factorised embeddings, shared layers).

    Args:
        teacher: a keras-hub text classifier or an albert_tf token classifier whose backbone
            is a `BertBackbone` (e.g. the MiniLM teacher).
        embedding_dim: E, the factorised embedding width (E = H keeps the embeddings exact).
        num_groups: G, shared layer groups, at most the teacher's layer count L; group g
            stands for a run of consecutive teacher layers (`group_bounds`: L/G each when G
            divides L, otherwise as even as possible).
        num_layers: encoder calls of the student (a multiple of G); default the teacher's L.
        merge: "average" (weight mean of a group's layers) or "select" (the member layer that
            best reproduces the group's output on `calibration_texts`).
        calibration_texts: texts for `select` (a few hundred in-domain texts are plenty); for
            a token classifier, sentences as lists of words.
        sequence_length: the student preprocessor's sequence length; default the teacher's.

    Returns:
        `keras_hub.models.AlbertTextClassifier` (or, for a token classifier, an
        `AlbertTokenClassifier`) with the teacher's tokenizer.

    Examples:
    >>> student = albertize_student(teacher, embedding_dim=128, num_groups=1)  # doctest: +SKIP
    """
    backbone = teacher.backbone
    if not isinstance(backbone, keras_hub.models.BertBackbone):
        raise UserError(f"'albertize' needs a BERT-family teacher (keras-hub BertBackbone); this "
                        f"teacher's backbone is {type(backbone).__name__} (use 'truncate' for "
                        "ALBERT teachers)")
    if merge not in MERGE_METHODS:
        raise UserError(f"merge must be one of {MERGE_METHODS}. Received: {merge!r}")
    teacher_layers = list(backbone.transformer_layers)
    depth = len(teacher_layers)
    if not 1 <= num_groups <= depth:
        raise UserError(f"num_groups must lie between 1 and the teacher's {depth} layers. "
                        f"Received: num_groups={num_groups}")
    num_layers = int(num_layers or depth)
    if num_layers % num_groups:
        raise UserError(f"num_layers must be a multiple of num_groups. Received: "
                        f"num_layers={num_layers}, num_groups={num_groups}")
    if merge == "select" and not calibration_texts:
        raise UserError("merge='select' needs calibration_texts (a sample of training texts)")

    student_backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=backbone.vocabulary_size,
        num_layers=num_layers,
        num_heads=backbone.num_heads,
        embedding_dim=embedding_dim,
        hidden_dim=backbone.hidden_dim,
        intermediate_dim=backbone.intermediate_dim,
        num_groups=num_groups,
        num_inner_repetitions=1,
        dropout=backbone.dropout,
        max_sequence_length=backbone.max_sequence_length,
        num_segments=backbone.num_segments,
    )
    gamma, beta = backbone.embeddings_layer_norm.get_weights()
    factors = factorize_embeddings(
        backbone.token_embedding.get_weights()[0], backbone.position_embedding.get_weights()[0],
        backbone.segment_embedding.get_weights()[0], gamma, beta, embedding_dim)
    logger.info("albertize: E=%d keeps %.2f%% of the embedding sums' centred energy",
                embedding_dim, 100 * factors["kept_energy"])
    student_backbone.token_embedding.set_weights([factors["token"]])
    student_backbone.position_embedding.set_weights([factors["position"]])
    student_backbone.segment_embedding.set_weights([factors["segment"]])
    student_backbone.embeddings_layer_norm.set_weights(
        [factors["norm_gamma"], factors["norm_beta"]])
    student_backbone.embeddings_projection.set_weights(
        [factors["projection_kernel"], factors["projection_bias"]])
    student_backbone.pooled_dense.set_weights(backbone.pooled_dense.get_weights())

    bounds = group_bounds(depth, num_groups)
    hidden_states = padding_mask = None
    if merge == "select":
        inputs = _calibration_inputs(teacher, calibration_texts)
        outputs = feature_model(teacher, hidden_indices=range(depth + 1)).predict(
            inputs, batch_size=64, verbose=0)
        hidden_states = [outputs[f"hidden_{i}"] for i in range(depth + 1)]
        padding_mask = inputs["padding_mask"]
    for group_index, student_layers in enumerate(student_backbone.transformer_layers):
        start, end = bounds[group_index], bounds[group_index + 1]
        members = teacher_layers[start:end]
        if merge == "average":
            student_layers[0].set_weights(average_weights(members))
        else:
            chosen = _select_layer(members, hidden_states[start], hidden_states[end],
                                   padding_mask, num_layers // num_groups)
            logger.info("select merge: group %d keeps teacher layer %d", group_index,
                        start + chosen)
            student_layers[0].set_weights(members[chosen].get_weights())

    return _student_task(teacher, student_backbone, sequence_length)


def _is_token_classifier(model) -> bool:
    from albert_tf.tagging.model import TokenClassifier

    return isinstance(model, TokenClassifier)


def _calibration_inputs(teacher, texts) -> dict:
    """Packed backbone inputs of the calibration texts (word lists for a token classifier)."""
    if _is_token_classifier(teacher):
        inputs = teacher.preprocessor(list(texts))
        return {name: keras.ops.convert_to_numpy(value) for name, value in inputs.items()}
    return tokenize(teacher.preprocessor, texts)


def _student_task(teacher, backbone, sequence_length):
    """The teacher's task over the ALBERT `backbone`: same head (weights copied) and tokenizer."""
    if _is_token_classifier(teacher):
        from albert_tf.tagging.model import AlbertTokenClassifier

        preprocessor = type(teacher.preprocessor)(
            teacher.preprocessor.tokenizer,
            sequence_length=sequence_length or teacher.preprocessor.sequence_length)
        student = AlbertTokenClassifier(backbone, num_classes=teacher.num_classes,
                                        preprocessor=preprocessor, dropout=teacher.dropout)
    else:
        student = keras_hub.models.AlbertTextClassifier(
            backbone,
            num_classes=teacher.num_classes,
            preprocessor=copy_preprocessor(teacher.preprocessor, sequence_length),
            activation=teacher.activation,
            dropout=teacher.dropout,
        )
    student.output_dense.set_weights(teacher.output_dense.get_weights())
    return student
