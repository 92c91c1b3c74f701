import numpy as np
import pytest

from albert_tf.classification_metrics import classification_report


def test_metrics_match_a_hand_computed_case():
    labels = [0, 0, 0, 1, 1, 2]
    logits = np.array([[3, 0, 0], [0, 3, 0], [3, 0, 0], [0, 3, 0], [0, 3, 0], [3, 0, 0]],
                      dtype=float)
    report = classification_report(labels, logits, ["a", "b", "c"])
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert report["accuracy"] == 4 / 6
    a, b, c = (report["per_class"][n] for n in "abc")
    assert (a["precision"], a["recall"]) == (2 / 3, 2 / 3)
    assert (b["precision"], b["recall"]) == (2 / 3, 1.0)
    assert (c["precision"], c["recall"], c["f1"]) == (0.0, 0.0, 0.0)
    np.testing.assert_allclose(report["macro_f1"], (2 / 3 + 0.8 + 0) / 3)
    p_true = np.exp(3) / (np.exp(3) + 2)
    p_wrong = 1 / (np.exp(3) + 2)
    expected_loss = -(4 * np.log(p_true) + 2 * np.log(p_wrong)) / 6
    np.testing.assert_allclose(report["loss"], expected_loss, rtol=1e-9)


def test_probabilities_are_not_softmaxed_twice():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    report = classification_report([0, 1], probs)
    np.testing.assert_allclose(report["loss"], -(np.log(0.9) + np.log(0.8)) / 2)


def test_expected_calibration_error_against_a_hand_computation():
    from albert_tf.classification_metrics import expected_calibration_error

    labels = [0, 0, 1, 1, 1]
    probabilities = [[0.95, 0.05], [0.92, 0.08],   # bin (0.9, 0.933]: 0.92 right; (0.933, 0.967]: 0.95 right
                     [0.55, 0.45], [0.45, 0.55],   # bin (0.533, 0.567]: both at 0.55, one right
                     [0.30, 0.70]]                 # bin (0.667, 0.7]: 0.70 right
    expected = (0.05 + 0.08 + 2 * 0.05 + 0.30) / 5
    assert expected_calibration_error(labels, probabilities) == pytest.approx(expected, abs=1e-6)
    # Always right with full confidence, or a coin flip at 0.5: perfectly calibrated.
    assert expected_calibration_error([0, 1], [[1.0, 0.0], [0.0, 1.0]]) == 0.0
    assert expected_calibration_error([0, 1], [[0.5, 0.5], [0.5, 0.5]]) == 0.0
    report = classification_report(np.array(labels), np.array(probabilities))
    assert report["ece"] == pytest.approx(expected, abs=1e-6)
