"""`albert-tf export` and `albert-tf quantize` parse, call the library, write their reports."""

import json

import pytest

from albert_tf.cli import main


@pytest.fixture(scope="module")
def saved_model_dir(tiny_classifier, label_names, tmp_path_factory):
    from albert_tf.models import save_classifier

    return save_classifier(tiny_classifier, tmp_path_factory.mktemp("cli") / "model", label_names)


def test_commands_are_registered(capsys):
    for command in ("export", "quantize"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "--output" in capsys.readouterr().out


def test_export_float32_tflite(saved_model_dir, tmp_path, capsys):
    path = tmp_path / "model.tflite"
    assert main(["export", str(saved_model_dir), "--output", str(path)]) == 0
    report = json.loads((tmp_path / "model.tflite.json").read_text())
    assert report["mode"] == "float32" and report["parity"]["outputs"]["within_tolerance"]
    assert report["classifier"]["label_names"] == json.loads(
        (saved_model_dir / "label_names.json").read_text())
    assert "parity on 234 texts" in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_2(saved_model_dir, tmp_path, capsys):
    assert main(["quantize", str(saved_model_dir), "--output-dir", str(tmp_path),
                 "--modes", "int9"]) == 2
    err = capsys.readouterr().err
    assert "unknown --modes" in err and len(err.strip().splitlines()) == 1
    assert main(["export", str(tmp_path / "missing"), "--output", str(tmp_path / "m.tflite")]) == 2


def test_failed_parity_exits_1_and_writes_nothing_unless_allowed(saved_model_dir, tmp_path,
                                                                 capsys, monkeypatch):
    import albert_tf.deploy.parity as parity

    real = parity.tflite_parity

    def off_by_a_lot(model, artifact, mode, texts=None):  # a broken converter, simulated
        report = real(model, artifact, mode, texts=texts)
        report["outputs"].update(max_abs_error=0.38, within_tolerance=False)
        return report

    monkeypatch.setattr(parity, "tflite_parity", off_by_a_lot)
    path = tmp_path / "model.tflite"
    assert main(["export", str(saved_model_dir), "--output", str(path)]) == 1
    err = capsys.readouterr().err
    assert "parity check failed, nothing written" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    assert main(["export", str(saved_model_dir), "--output", str(path), "--allow-mismatch"]) == 0
    assert "parity check FAILED" in capsys.readouterr().out
    recorded = json.loads((tmp_path / "model.tflite.json").read_text())["parity"]
    assert recorded["mismatch_allowed"] and "3.80e-01" in recorded["failures"][0]
