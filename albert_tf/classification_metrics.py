"""Classification metrics, computed the same way for every model and artifact.

`classification_report(labels, logits)` is pure numpy, so a Keras model, a SavedModel signature
and a `.tflite` interpreter are all scored by the same code from their own outputs.
"""

import logging

import numpy as np

logger = logging.getLogger(__name__)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def classification_report(labels, logits, label_names=None) -> dict:
    """Loss, accuracy, macro-F1, per-class precision / recall / F1 and the confusion matrix.

    Args:
        labels: int array `(n,)` of true class ids.
        logits: float array `(n, num_classes)` of unnormalised scores (or probabilities).
        label_names: names for the classes, in id order (default: the ids as strings).

    Returns:
        A JSON-serialisable dict. `confusion_matrix[i][j]` counts class i predicted as j.
    """
    labels = np.asarray(labels, dtype=np.int64)
    logits = np.asarray(logits, dtype=np.float64)
    num_classes = logits.shape[-1]
    names = list(label_names) if label_names is not None else [str(i) for i in range(num_classes)]
    predictions = logits.argmax(axis=-1)
    # Probabilities as given (rows summing to 1) are used as they are, logits go through softmax.
    is_probability = np.all(logits >= 0) and np.allclose(logits.sum(-1), 1.0, atol=1e-3)
    probs = logits if is_probability else softmax(logits)
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0))))
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    per_class = {}
    f1s = []
    for i, name in enumerate(names):
        tp = confusion[i, i]
        predicted = confusion[:, i].sum()
        actual = confusion[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class[name] = {"precision": float(precision), "recall": float(recall),
                           "f1": float(f1), "support": int(actual)}
    return {
        "examples": int(len(labels)),
        "loss": loss,
        "accuracy": float((predictions == labels).mean()) if len(labels) else 0.0,
        "ece": expected_calibration_error(labels, probs),
        "macro_f1": float(np.mean(f1s)),
        "per_class": per_class,
        "label_names": names,
        "confusion_matrix": confusion.tolist(),
    }


def expected_calibration_error(labels, probabilities, bins: int = 15) -> float:
    """How far confidence is from accuracy: the examples binned by their top probability into
    `bins` equal-width bins, `Σ (n_b / n) · |accuracy_b - mean confidence_b|` (Guo et al.,
    2017). 0 is perfectly calibrated; thresholds on confidence (early exit, "ship when
    sure") need it small.

    Args:
        labels: int array `(n,)` of true class ids.
        probabilities: float array `(n, num_classes)`, rows summing to 1.

    Examples:
    >>> expected_calibration_error([0, 1], [[0.9, 0.1], [0.6, 0.4]])  # 0.9 right, 0.6 wrong
    0.35
    """
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if not len(labels):
        return 0.0
    confidence = probabilities.max(axis=-1)
    correct = probabilities.argmax(axis=-1) == labels
    # Bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 joins bin 0.
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    error = 0.0
    for b in np.unique(which):
        members = which == b
        error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return round(float(error), 6)


def predict_logits(model, dataset) -> np.ndarray:
    """Logits of a keras-hub classifier over a tokenised dataset (`x` or `(x, y)` batches)."""
    from albert_tf.models import detached_preprocessor

    with detached_preprocessor(model):
        return np.asarray(model.predict(dataset, verbose=0), dtype=np.float32)


def evaluate_classifier(model, dataset, labels, label_names=None) -> dict:
    """Score `model` on a tokenised `dataset` whose true labels are `labels` (same order)."""
    logits = predict_logits(model, dataset)
    return classification_report(labels, logits, label_names)
