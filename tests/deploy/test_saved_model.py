"""SavedModel for TF Serving: layout, models.config, warm-up records, raw-text signature equal to
the Keras pipeline, token signature, accuracy through the loaded signature, Keras int8."""

from pathlib import Path

import numpy as np
import pytest

from albert_tf.errors import UserError


def test_serving_layout_and_models_config(serving_export, artifacts_dir):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    root = artifacts_dir / "serving"
    version = root / "sentiment" / "1"
    assert Path(serving_export["path"]) == version
    assert (version / "saved_model.pb").is_file() and (version / "variables").is_dir()
    assert not [p for p in (root / "sentiment").iterdir() if p.name != "1"]  # no staging left
    config = text_format.Parse((root / "models.config").read_text(),
                               model_server_config_pb2.ModelServerConfig())
    entries = config.model_config_list.config
    assert [(e.name, e.base_path, e.model_platform) for e in entries] == \
        [("sentiment", "/models/sentiment", "tensorflow")]
    # As the container of export/serving/README.md sees it: the root mounted at /models.
    in_container = root / Path(entries[0].base_path).relative_to("/models")
    assert (in_container / "1" / "saved_model.pb").is_file()
    assert (root / "sentiment.v1.json").is_file()


def test_warmup_file_parses_as_prediction_logs(serving_export):
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = Path(serving_export["path"]) / "assets.extra" / "tf_serving_warmup_requests"
    logs = []
    for record in tf.data.TFRecordDataset(str(path)):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    assert len(logs) >= 3
    requests = [log.predict_log.request for log in logs]
    assert {r.model_spec.name for r in requests} == {"sentiment"}
    assert {r.model_spec.signature_name for r in requests} == {"serving_default", "tokens"}
    text_request = next(r for r in requests if r.model_spec.signature_name == "serving_default")
    assert tf.make_ndarray(text_request.inputs["text"]).dtype == object


def test_warmup_requests_replay_against_the_signatures(serving_export):
    from albert_tf.deploy.serving_warmup import replay_warmup_requests

    results = replay_warmup_requests(serving_export["path"])
    for result in results:
        batch = next(iter(result["inputs"].values()))[0]
        assert result["outputs"]["probabilities"] == [batch, 2]
        assert result["outputs"]["label"] == [batch]


def test_raw_text_signature_equals_keras_pipeline(serving_export, tiny_classifier, splits,
                                                  label_names):
    import tensorflow as tf

    from albert_tf.deploy.parity import PARITY_TEXTS

    texts = list(splits[2].texts[:16]) + list(PARITY_TEXTS)
    loaded = tf.saved_model.load(serving_export["path"])
    outputs = loaded.signatures["serving_default"](text=tf.constant(texts))
    # The Keras pipeline: the task with its own preprocessor, strings in.
    logits = tiny_classifier.predict(np.asarray(texts, dtype=object), verbose=0)
    expected = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(outputs["probabilities"].numpy(), expected, atol=1e-5)
    labels = [label.decode() for label in outputs["label"].numpy()]
    assert labels == [label_names[i] for i in expected.argmax(-1)]
    assert serving_export["parity"]["serving_default"]["within_tolerance"]
    assert serving_export["parity"]["tokens"]["within_tolerance"]
    assert serving_export["parity"]["labels_match_probabilities"]


def test_accuracy_through_the_loaded_signature(serving_export, tiny_classifier, splits):
    from albert_tf.classification_metrics import evaluate_classifier
    from albert_tf.deploy import evaluate_saved_model
    from albert_tf.text import make_dataset

    test = splits[2].select(range(40))
    report = evaluate_saved_model(serving_export["path"], test)
    tokens = evaluate_saved_model(serving_export["path"], test, model=tiny_classifier,
                                  signature="tokens")
    keras_report = evaluate_classifier(tiny_classifier, make_dataset(test, tiny_classifier.preprocessor),
                            test.labels, test.label_names)
    assert report["examples"] == len(test.texts) == tokens["examples"]
    assert report["accuracy"] == pytest.approx(keras_report["accuracy"])
    assert report["confusion_matrix"] == tokens["confusion_matrix"]
    assert report["signature"] == "serving_default"


def test_existing_version_is_not_overwritten(serving_export, tiny_classifier, artifacts_dir):
    from albert_tf.deploy import export_saved_model

    with pytest.raises(UserError, match="already exists"):
        export_saved_model(tiny_classifier, artifacts_dir / "serving", "sentiment", 1)
    with pytest.raises(UserError, match="version"):
        export_saved_model(tiny_classifier, artifacts_dir / "serving", "sentiment", 0)


def test_keras_int8_weights_in_a_second_model(tiny_classifier, label_names, artifacts_dir,
                                              serving_export, tmp_path):
    import shutil

    import tensorflow as tf

    from albert_tf.deploy import export_saved_model

    # A copy of the served folder: the shared one stays as other tests expect it.
    root = tmp_path / "serving"
    shutil.copytree(artifacts_dir / "serving", root)
    report = export_saved_model(tiny_classifier, root, "sentiment-int8", 1,
                                label_names=label_names, keras_int8=True, parity_texts=[
                                    "A gripping, beautifully acted film.", "Terrible.", ""])
    loaded = tf.saved_model.load(report["path"])
    assert any(v.dtype == tf.int8 for v in loaded.variables)
    assert all(w.dtype != "int8" for w in tiny_classifier.weights)  # caller's model untouched
    parity = report["parity"]["serving_default"]
    assert parity["tolerance"] is None and parity["max_abs_error"] < 0.1
    names = [line.split('"')[1] for line in (root / "models.config").read_text().splitlines()
             if "name:" in line]
    assert names == ["sentiment", "sentiment-int8"]
