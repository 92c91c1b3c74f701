"""Runtime compatibility: operators and versions from the flatbuffer, and actual runs with
ai-edge-litert and tflite-runtime 2.14 (isolated venv, numpy<2)."""

import pytest

from albert_tf.deploy import describe_ops, runtime_compatibility


def _version(ops, name):
    return max(o["version"] for o in ops["operators"] if o["op"] == name)


def test_op_versions_read_from_the_flatbuffer(tflite_exports):
    assert _version(tflite_exports["dynamic-int8"]["ops"], "FULLY_CONNECTED") == 12
    assert _version(tflite_exports["float32"]["ops"], "FULLY_CONNECTED") < 12
    described = describe_ops(tflite_exports["float32"]["path"])
    assert described == tflite_exports["float32"]["ops"]
    assert sum(o["count"] for o in described["operators"]) == sum(
        described["compute_classes"].values())


@pytest.fixture(scope="module")
def compat(tflite_exports):
    reports = {mode: runtime_compatibility(tflite_exports[mode]["path"])
               for mode in ("float32", "dynamic-int8")}
    status = reports["float32"]["runtimes"]["tflite-runtime-2.14"]
    if status["status"] == "not checked":
        pytest.skip(f"tflite-runtime 2.14 environment unavailable: {status['detail']}")
    return reports


def test_float32_runs_everywhere(compat):
    import json
    from pathlib import Path

    runtimes = compat["float32"]["runtimes"]
    on_disk = json.loads(Path(compat["float32"]["path"] + ".runtimes.json").read_text())
    assert on_disk["runtimes"] == runtimes
    assert runtimes["ai-edge-litert"]["status"] == "runs"
    assert runtimes["tflite-runtime-2.14"]["status"] == "runs"
    assert runtimes["tflite-runtime-2.14"]["runtime"] == "tflite-runtime 2.14.0"


def test_dynamic_int8_fails_on_tflite_runtime_2_14(compat):
    runtimes = compat["dynamic-int8"]["runtimes"]
    assert runtimes["ai-edge-litert"]["status"] == "runs"
    old = runtimes["tflite-runtime-2.14"]
    assert old["status"] == "fails"
    assert "FULLY_CONNECTED" in old["detail"] and "12" in old["detail"]


def test_raw_text_model_needs_tf_text_kernels(raw_text_export):
    report = runtime_compatibility(raw_text_export["path"], check_tflite_runtime=False)
    assert "TFText>FastSentencepieceTokenize" in report["custom_ops"]
    assert report["runtimes"]["ai-edge-litert"]["status"] == "fails"
    assert "custom op" in report["runtimes"]["ai-edge-litert"]["detail"]
    assert report["runtimes"]["ai-edge-litert+tensorflow-text"]["status"] == "runs"
    assert report["runtimes"]["tflite-runtime-2.14"]["status"] == "not checked"
