"""requirements-tflite-runtime.txt: the fallback runtime for old boards runs the float32
bundle and refuses dynamic-int8 with advice, as the README says."""

import numpy as np
import pytest
from kit_helpers import EDGE_KIT, keras_probabilities, kit_venv, read_json_output, run_kit

CLASSIFY = EDGE_KIT / "classify.py"


@pytest.fixture(scope="module")
def tflite_runtime_venv():
    return kit_venv(EDGE_KIT / "requirements-tflite-runtime.txt")


def test_float32_bundle_runs_on_tflite_runtime(tflite_runtime_venv, albert_bundles,
                                               albert_classifier, kit_texts):
    texts = [t for t in kit_texts[:12] if t.strip()]
    output = read_json_output(run_kit(tflite_runtime_venv, CLASSIFY,
                                      albert_bundles["float32"]["path"], "--json", *texts))
    assert output["runtime"] == "tflite-runtime 2.14.0"
    probabilities = np.asarray([list(r["probabilities"].values()) for r in output["results"]])
    np.testing.assert_allclose(probabilities, keras_probabilities(albert_classifier, texts),
                               atol=1e-4)


def test_dynamic_int8_bundle_is_refused_with_advice(tflite_runtime_venv, albert_bundles):
    completed = run_kit(tflite_runtime_venv, CLASSIFY, albert_bundles["dynamic-int8"]["path"],
                        "a gripping film")
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "tflite-runtime" in completed.stderr and "float32" in completed.stderr
