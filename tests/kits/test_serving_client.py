"""export/serving: the client's REST and gRPC requests against local servers that answer like
TF Serving by running the SavedModel albert_tf exports, and the models.config template."""

import json
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from kit_helpers import SERVING_KIT, keras_probabilities, run_kit

MODEL = "sentiment"


@pytest.fixture(scope="module")
def served(albert_classifier, label_names, tmp_path_factory):
    """`(serving root, loaded SavedModel)` of version 1 of `sentiment`."""
    import tensorflow as tf

    from albert_tf.deploy import export_saved_model

    root = tmp_path_factory.mktemp("serving")
    report = export_saved_model(albert_classifier, root, MODEL, 1, label_names=label_names,
                                base_path_prefix="/models", parity=False)
    return root, tf.saved_model.load(report["path"])


def _run_signature(loaded, signature, inputs):
    import tensorflow as tf

    outputs = loaded.signatures[signature](
        **{name: tf.constant(values) for name, values in inputs.items()})
    return {name: value.numpy() for name, value in outputs.items()}


class _TFServingRestHandler(BaseHTTPRequestHandler):
    """POST /v1/models/<name>[/versions/<v>]:predict with TF Serving's row format."""

    loaded = None
    requests = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        if self.path not in (f"/v1/models/{MODEL}:predict",
                             f"/v1/models/{MODEL}/versions/1:predict"):
            return self._answer(404, {"error": f"Servable not found for request: {self.path}"})
        instances = body["instances"]
        inputs = {name: [instance[name] for instance in instances] for name in instances[0]}
        outputs = _run_signature(self.loaded, body.get("signature_name", "serving_default"),
                                 inputs)
        predictions = [{"probabilities": outputs["probabilities"][i].tolist(),
                        "label_id": int(outputs["label_id"][i]),
                        "label": outputs["label"][i].decode("utf-8")}
                       for i in range(len(instances))]
        self._answer(200, {"predictions": predictions})

    def _answer(self, status, payload):
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def rest_server(served):
    """A TF-Serving-like REST server on 127.0.0.1 (own port), stopped after the test."""
    _TFServingRestHandler.loaded = served[1]
    _TFServingRestHandler.requests = []
    server = HTTPServer(("127.0.0.1", 0), _TFServingRestHandler)
    server.timeout = 60
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_rest_body_is_tf_serving_row_format(serving_client):
    body = serving_client.rest_request_body(["a", "b"], ["c", "d"])
    assert body == {"signature_name": "serving_default",
                    "instances": [{"text": "a", "text_pair": "c"},
                                  {"text": "b", "text_pair": "d"}]}
    assert serving_client.rest_url("h", 8501, "m") == "http://h:8501/v1/models/m:predict"
    assert serving_client.rest_url("h", 1, "m", 3) == "http://h:1/v1/models/m/versions/3:predict"
    with pytest.raises(serving_client.ClientError, match="one pair per text"):
        serving_client.rest_request_body(["a"], ["b", "c"])


def test_grpc_request_proto(serving_client):
    from tensorflow.core.framework import types_pb2

    request = serving_client.grpc_request(["a fine film", "héllo"], model=MODEL, version=2)
    assert request.model_spec.name == MODEL and request.model_spec.version.value == 2
    assert request.model_spec.signature_name == "serving_default"
    assert list(request.inputs) == ["text"]
    tensor = request.inputs["text"]
    assert tensor.dtype == types_pb2.DT_STRING
    assert [d.size for d in tensor.tensor_shape.dim] == [2]
    assert list(tensor.string_val) == [b"a fine film", "héllo".encode()]
    pair = serving_client.grpc_request(["a"], ["b"], model=MODEL)
    assert sorted(pair.inputs) == ["text", "text_pair"] and not pair.model_spec.HasField("version")


def test_rest_predictions_match_keras(serving_client, rest_server, albert_classifier, kit_texts,
                                      label_names):
    texts = [t for t in kit_texts[:16] if t.strip()]
    results = serving_client.predict_rest(texts, model=MODEL, host="127.0.0.1", port=rest_server,
                                          version=1)
    expected = keras_probabilities(albert_classifier, texts)
    np.testing.assert_allclose([r["probabilities"] for r in results], expected, atol=1e-5)
    assert [r["label"] for r in results] == [label_names[i] for i in expected.argmax(axis=1)]
    path, body = _TFServingRestHandler.requests[-1]
    assert path == f"/v1/models/{MODEL}/versions/1:predict" and len(body["instances"]) == len(texts)


def test_rest_cli_needs_only_the_standard_library(edge_venv, rest_server, label_names):
    """client.py over REST runs in the edge venv, which has no TensorFlow or grpc."""
    completed = run_kit(edge_venv, SERVING_KIT / "client.py", "--model", MODEL, "--host",
                        "127.0.0.1", "--port", rest_server, "--json", "a gripping film",
                        "dull and far too long")
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert [r["text"] for r in results] == ["a gripping film", "dull and far too long"]
    assert all(r["label"] in label_names and len(r["probabilities"]) == 2 for r in results)

    unknown = run_kit(edge_venv, SERVING_KIT / "client.py", "--model", "nope", "--host",
                      "127.0.0.1", "--port", rest_server, "a film")
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr
    assert "Servable not found" in unknown.stderr
    no_text = run_kit(edge_venv, SERVING_KIT / "client.py", "--model", MODEL)
    assert no_text.returncode == 2 and "no texts" in no_text.stderr


def test_grpc_predictions_match_keras(serving_client, served, albert_classifier, kit_texts):
    """An in-process PredictionService on 127.0.0.1 that runs the SavedModel's signature."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    loaded = served[1]
    received = []

    class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):
            received.append(request)
            if request.model_spec.name != MODEL:
                context.abort(grpc.StatusCode.NOT_FOUND, "Servable not found")
            inputs = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
            outputs = _run_signature(loaded, request.model_spec.signature_name, inputs)
            response = predict_pb2.PredictResponse()
            for name, value in outputs.items():
                response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionService(),
                                                                       server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        texts = [t for t in kit_texts[:16] if t.strip()]
        results = serving_client.predict_grpc(texts, model=MODEL, host="127.0.0.1", port=port,
                                              timeout=60)
        with pytest.raises(serving_client.ClientError, match="NOT_FOUND"):
            serving_client.predict_grpc(["a"], model="nope", host="127.0.0.1", port=port)
    finally:
        server.stop(grace=None)
    expected = keras_probabilities(albert_classifier, texts)
    np.testing.assert_allclose([r["probabilities"] for r in results], expected, atol=1e-5)
    assert [r["label_id"] for r in results] == list(expected.argmax(axis=1))
    assert received[0].model_spec.signature_name == "serving_default"


def test_models_config_template_matches_the_layout_albert_tf_writes(served):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    template = text_format.Parse((SERVING_KIT / "models.config").read_text(),
                                 model_server_config_pb2.ModelServerConfig())
    written = text_format.Parse((served[0] / "models.config").read_text(),
                                model_server_config_pb2.ModelServerConfig())
    assert template == written
    assert (served[0] / MODEL / "1" / "assets.extra" / "tf_serving_warmup_requests").is_file()
