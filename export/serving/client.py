"""Send texts to an albert_tf model in TF Serving, over REST (JSON) or gRPC.

The SavedModel albert_tf writes for TF Serving has two signatures:

* `serving_default`: `text` (strings; plus `text_pair` for pair models) -> `probabilities`
  `[batch, classes]`, `label_id` `[batch]` and `label` `[batch]` (the class name);
* `tokens`: `token_ids`, `segment_ids`, `padding_mask` (int32 `[batch, sequence_length]`) for
  clients that tokenise themselves.

This client calls the raw-text signature. REST needs only the standard library (`urllib`):
`POST http://HOST:8501/v1/models/NAME[/versions/V]:predict` with
`{"signature_name": ..., "instances": [{"text": ...}, ...]}`. gRPC needs tensorflow-serving-api
(`PredictionService/Predict` on HOST:8500 with a `PredictRequest`).

Usage:
    python client.py --model sentiment "a gripping film" "dull and far too long"
    python client.py --model sentiment --protocol grpc --json "a gripping film"
    python client.py --model nli --pairs "premise<TAB>hypothesis"
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

TEXT_INPUT = "text"
PAIR_INPUT = "text_pair"
OUTPUTS = ("probabilities", "label_id", "label")
DEFAULT_SIGNATURE = "serving_default"
EXIT_OK, EXIT_USAGE, EXIT_SERVER = 0, 2, 1


class ClientError(Exception):
    """A request that could not be made or answered (bad input, server error, no server)."""


def _inputs(texts, pairs) -> dict[str, list[str]]:
    texts = [str(t) for t in texts]
    if not texts:
        raise ClientError("no texts to send")
    inputs = {TEXT_INPUT: texts}
    if pairs is not None:
        if len(pairs) != len(texts):
            raise ClientError(f"{len(texts)} texts but {len(pairs)} pairs: one pair per text")
        inputs[PAIR_INPUT] = [str(p) for p in pairs]
    return inputs


# ---------------------------------------------------------------------------------------------
# REST


def rest_url(host: str, port: int, model: str, version: int | None = None) -> str:
    """`http://HOST:PORT/v1/models/MODEL[/versions/V]:predict`."""
    versioned = f"/versions/{int(version)}" if version is not None else ""
    return f"http://{host}:{port}/v1/models/{model}{versioned}:predict"


def rest_request_body(texts, pairs=None, signature: str = DEFAULT_SIGNATURE) -> dict:
    """TF Serving's row format: one instance per text, named inputs as keys."""
    inputs = _inputs(texts, pairs)
    names = list(inputs)
    instances = [{name: inputs[name][i] for name in names} for i in range(len(inputs[TEXT_INPUT]))]
    return {"signature_name": signature, "instances": instances}


def parse_rest_response(body: dict) -> list[dict]:
    """One dict (probabilities, label_id, label) per text, from the row or columnar format."""
    if "error" in body:
        raise ClientError(f"TF Serving answered: {body['error']}")
    if "predictions" in body:  # row format: a dict per instance (several outputs)
        rows = body["predictions"]
        if rows and not isinstance(rows[0], dict):
            raise ClientError("the response has a single unnamed output: not the raw-text "
                              "signature of an albert_tf model")
        return [{name: row[name] for name in OUTPUTS if name in row} for row in rows]
    if "outputs" in body:  # columnar format
        outputs = body["outputs"]
        count = len(outputs["probabilities"])
        return [{name: outputs[name][i] for name in OUTPUTS if name in outputs}
                for i in range(count)]
    raise ClientError(f"unexpected response (no predictions / outputs): {str(body)[:200]}")


def predict_rest(texts, pairs=None, *, model: str, host: str = "localhost", port: int = 8501,
                 version: int | None = None, signature: str = DEFAULT_SIGNATURE,
                 timeout: float = 30.0) -> list[dict]:
    """Classify texts through TF Serving's REST API.

    Args:
        texts: strings to classify.
        pairs: second strings of text pairs (pair models), or None.
        model: the served model's name (models.config `name`).
        host, port: the server's REST address (`--rest_api_port`, 8501 by default).
        version: a specific version, or None for the newest.
        signature: signature name.
        timeout: seconds to wait for the answer.
    """
    data = json.dumps(rest_request_body(texts, pairs, signature)).encode("utf-8")
    request = urllib.request.Request(rest_url(host, port, model, version), data=data,
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        raise ClientError(f"HTTP {exc.code} from {exc.url}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ClientError(f"no answer from {host}:{port} ({exc}); is TF Serving running with "
                          "--rest_api_port?") from exc
    return parse_rest_response(body)


# ---------------------------------------------------------------------------------------------
# gRPC


def grpc_request(texts, pairs=None, *, model: str, version: int | None = None,
                 signature: str = DEFAULT_SIGNATURE):
    """A `PredictRequest` with `DT_STRING` tensors `[batch]` for the raw-text signature."""
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, values in _inputs(texts, pairs).items():
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(values))]),
            string_val=[v.encode("utf-8") for v in values])
        request.inputs[name].CopyFrom(tensor)
    return request


_PACKED_DTYPES = {"DT_FLOAT": "<f4", "DT_INT32": "<i4", "DT_INT64": "<i8"}


def _tensor_values(tensor) -> tuple[list, list[int]]:
    """Flat values and shape of a `TensorProto` (float, int or string).

    TF Serving usually packs numeric outputs into `tensor_content` (raw little-endian bytes);
    strings always come as `string_val`.
    """
    from tensorflow.core.framework import types_pb2

    shape = [int(d.size) for d in tensor.tensor_shape.dim]
    dtype = types_pb2.DataType.Name(tensor.dtype)
    if dtype == "DT_STRING":
        return [v.decode("utf-8") for v in tensor.string_val], shape
    if dtype not in _PACKED_DTYPES:
        raise ClientError(f"unexpected output dtype {dtype}")
    if tensor.tensor_content:
        import numpy as np  # a dependency of tensorflow-serving-api's TensorFlow

        return np.frombuffer(tensor.tensor_content, _PACKED_DTYPES[dtype]).tolist(), shape
    if dtype == "DT_FLOAT":
        return list(tensor.float_val), shape
    return list(tensor.int_val) or list(tensor.int64_val), shape


def parse_grpc_response(response) -> list[dict]:
    """One dict (probabilities, label_id, label) per text of a `PredictResponse`."""
    columns = {}
    count = None
    for name in OUTPUTS:
        if name not in response.outputs:
            continue
        values, shape = _tensor_values(response.outputs[name])
        if len(shape) == 2:
            width = shape[1]
            values = [values[i * width:(i + 1) * width] for i in range(shape[0])]
        columns[name] = values
        count = len(values)
    if count is None:
        raise ClientError(f"the response has none of the outputs {OUTPUTS}: "
                          f"{sorted(response.outputs)}")
    return [{name: column[i] for name, column in columns.items()} for i in range(count)]


def predict_grpc(texts, pairs=None, *, model: str, host: str = "localhost", port: int = 8500,
                 version: int | None = None, signature: str = DEFAULT_SIGNATURE,
                 timeout: float = 30.0) -> list[dict]:
    """Classify texts through TF Serving's gRPC `PredictionService`.

    Args: as `predict_rest`; `port` is `--port` (8500 by default).
    """
    try:
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc
    except ImportError as exc:
        raise ClientError(f"gRPC needs tensorflow-serving-api: pip install -r "
                          f"requirements.txt ({exc})") from exc
    request = grpc_request(texts, pairs, model=model, version=version, signature=signature)
    with grpc.insecure_channel(f"{host}:{port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            response = stub.Predict(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise ClientError(f"gRPC {exc.code().name} from {host}:{port}: {exc.details()}") \
                from exc
    return parse_grpc_response(response)


# ---------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Classify texts with an albert_tf model served by TF Serving.")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    parser.add_argument("--model", required=True, help="served model name (models.config)")
    parser.add_argument("--protocol", choices=("rest", "grpc"), default="rest",
                        help="REST (JSON, port 8501) or gRPC (PredictRequest, port 8500)")
    parser.add_argument("--host", default="localhost", help="TF Serving host")
    parser.add_argument("--port", type=int,
                        help="server port (default 8501 for REST, 8500 for gRPC)")
    parser.add_argument("--version", type=int, help="model version (default: the newest)")
    parser.add_argument("--signature", default=DEFAULT_SIGNATURE,
                        help="signature name (default serving_default, the raw-text one)")
    parser.add_argument("--file", help="also send every non-empty line of this UTF-8 file")
    parser.add_argument("--pairs", action="store_true",
                        help="each text is 'first<TAB>second' (pair models)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser


def _read_texts(args) -> tuple[list[str], list[str] | None]:
    """Texts (and pairs) from the arguments and --file; raises ValueError on bad input."""
    texts = list(args.texts)
    if args.file:
        with open(args.file, encoding="utf-8") as handle:
            texts += [line.rstrip("\n") for line in handle if line.strip()]
    if not texts:
        raise ValueError("no texts: give TEXT arguments or --file")
    if not args.pairs:
        return texts, None
    if any("\t" not in text for text in texts):
        raise ValueError("--pairs needs 'first<TAB>second' texts")
    split = [text.split("\t", 1) for text in texts]
    return [first for first, _ in split], [second for _, second in split]


def main(argv=None) -> int:
    args = build_parser().parse_intermixed_args(argv)
    try:
        texts, pairs = _read_texts(args)
    except (OSError, ValueError) as exc:
        print(f"client.py: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    predict = predict_rest if args.protocol == "rest" else predict_grpc
    port = args.port or (8501 if args.protocol == "rest" else 8500)
    try:
        results = predict(texts, pairs, model=args.model, host=args.host, port=port,
                          version=args.version, signature=args.signature, timeout=args.timeout)
    except ClientError as exc:
        print(f"client.py: error: {exc}", file=sys.stderr)
        return EXIT_SERVER
    for text, result in zip(texts, results):
        result["text"] = text
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        for result in results:
            probability = max(result.get("probabilities") or [float("nan")])
            print(f"{result.get('label', result.get('label_id'))}\t{probability:.4f}\t"
                  f"{result['text']}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
