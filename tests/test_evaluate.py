import numpy as np

from albert_tf.evaluate import classification_report


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
