"""Training on a two-worker `MultiWorkerMirroredStrategy` cluster on 127.0.0.1: pre-training
and distillation end with the same weights on both workers, only the chief's checkpoints are
kept, and a cluster restarted after a worker was killed goes on from the last checkpoint
without losing a finished step. Bad strategy settings get one clear line."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import albert_tf
from albert_tf.errors import UserError

pytestmark = pytest.mark.slow
TIMEOUT = 240  # seconds a cluster may take; a hang fails the test instead of blocking it
JOB_SCRIPT = Path(__file__).with_name("multi_worker_job.py")
SOURCE_ROOT = str(Path(albert_tf.__file__).resolve().parents[1])
PRETRAIN_FLAGS = ["--model", "albert-tiny", "--vocab-size", "600", "--sequence-length", "32",
                  "--held-out-fraction", "0.1", "--batch-size", "8", "--learning-rate", "2e-3",
                  "--strategy", "multi-worker"]


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start_cluster(args, logs: Path):
    """Two worker processes running `args`, each told its place by `TF_CONFIG`."""
    ports = _free_ports(2)
    logs.mkdir(parents=True, exist_ok=True)
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                     "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "CUDA_VISIBLE_DEVICES": "",
               "PYTHONPATH": SOURCE_ROOT}  # this albert_tf, not another installed one
        log = open(logs / f"worker-{index}-{len(list(logs.iterdir()))}.log", "w")
        workers.append((subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env),
                        log))
    return workers


def _wait(workers, timeout=TIMEOUT):
    codes, deadline = [], time.monotonic() + timeout
    for process, log in workers:
        try:
            codes.append(process.wait(timeout=max(deadline - time.monotonic(), 1)))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
        log.close()
    return codes


def _logs(folder: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in sorted(folder.glob("*.log")))


def _saved_weights(folder: Path) -> list:
    """The arrays of a keras-hub preset folder's `model.weights.h5`, in file order."""
    import h5py

    arrays = []
    with h5py.File(folder / "model.weights.h5", "r") as data:
        data.visititems(lambda name, item: arrays.append(item[()])
                        if isinstance(item, h5py.Dataset) else None)
    return arrays


def _assert_same(chief: list, worker: list):
    assert len(chief) == len(worker) > 10
    for a, b in zip(chief, worker):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def cluster_run(brown_txt, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("multi_worker")
    logs = run_dir / "logs"
    codes = _wait(_start_cluster([sys.executable, str(JOB_SCRIPT), str(run_dir),
                                  str(brown_txt)], logs))
    assert codes == [0, 0], _logs(logs)
    return run_dir


def test_two_workers_pretrain_to_identical_weights(cluster_run):
    run_dir = cluster_run / "pretrain"
    worker = run_dir / "workers" / "worker-1"
    _assert_same(_saved_weights(run_dir / "model"), _saved_weights(worker / "model"))
    state = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [2, 4]
    # Only the chief's checkpoints are kept: the other worker's are deleted once written.
    assert not (worker / "checkpoints").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["job"]["strategy"] == "multi-worker" and metrics["steps"] == 4


def test_two_workers_distil_to_identical_weights(cluster_run):
    run_dir = cluster_run / "distill"
    worker = run_dir / "workers" / "worker-1"
    _assert_same(_saved_weights(run_dir / "student"), _saved_weights(worker / "student"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_done"] == 2 and metrics["config"]["strategy"] == "multi-worker"
    assert all(np.isfinite(h["loss"]) for h in metrics["history"])
    assert not (worker / "checkpoints").exists()


def _checkpoint(run_dir: Path):
    state = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    with np.load(run_dir / "checkpoints" / state["weights_file"]) as data:
        return state, [data[f"arr_{i}"] for i in range(len(data.files))]


def test_a_restarted_cluster_resumes_from_the_last_checkpoint(brown_txt, tmp_path):
    """A worker is killed after a checkpoint. With synchronous training the other cannot go
    on, so the whole cluster is stopped and restarted with --resume. Asserted: the finished
    steps' history is kept as it was, training goes on from the last checkpoint to the last
    step (the optimizer's step counter says how many steps the weights went through), and
    the two workers again end with identical weights. Not asserted: equality with an
    uninterrupted run, since dropout's random state is not part of a checkpoint."""
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    args = [sys.executable, "-m", "albert_tf.cli", "pretrain", "--corpus", str(brown_txt),
            *PRETRAIN_FLAGS, "--run-dir", str(run_dir), "--checkpoint-every", "2"]
    workers = _start_cluster([*args, "--steps", "400"], logs)
    state_path = run_dir / "checkpoints" / "state.json"
    deadline = time.monotonic() + TIMEOUT
    while not (state_path.is_file() and json.loads(state_path.read_text())["history"]):
        if time.monotonic() > deadline or workers[0][0].poll() is not None:
            _wait(workers, timeout=1)
            pytest.fail(_logs(logs))
        time.sleep(0.2)
    workers[1][0].send_signal(signal.SIGKILL)
    time.sleep(2)
    workers[0][0].send_signal(signal.SIGKILL)  # a chief left alone waits for its peer
    _wait(workers)
    before, _ = _checkpoint(run_dir)
    done = before["history"][-1]["step"]
    assert 2 <= done < 400

    codes = _wait(_start_cluster([*args, "--steps", str(done + 4), "--resume"], logs))
    assert codes == [0, 0], _logs(logs)
    after, arrays = _checkpoint(run_dir)
    assert after["history"][:len(before["history"])] == before["history"]
    assert [h["step"] for h in after["history"][len(before["history"]):]] == [done + 2, done + 4]
    assert all(np.isfinite(h["val_mlm_loss"]) for h in after["history"])
    assert done + 4 in [int(a) for a in arrays if a.shape == () and a.dtype.kind == "i"]
    _assert_same(_saved_weights(run_dir / "model"),
                 _saved_weights(run_dir / "workers" / "worker-1" / "model"))


def test_bad_strategy_settings_get_one_clear_line(monkeypatch):
    from albert_tf.train.strategy import make_strategy

    with pytest.raises(UserError, match="unknown strategy 'parameter-server': expected one of"):
        make_strategy("parameter-server")
    for text, message in [
            ("{cluster: }", "TF_CONFIG is not valid JSON"),
            ('{"cluster": {"worker": ["127.0.0.1:1"]}}', 'needs a "cluster" and a "task"'),
            ('{"cluster": {"ps": ["h:1"]}, "task": {"type": "ps", "index": 0}}',
             "only chief and worker"),
            ('{"cluster": {"worker": ["nohost"]}, "task": {"type": "worker", "index": 0}}',
             "must list host:port addresses"),
            ('{"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 3}}',
             "is not in the cluster")]:
        monkeypatch.setenv("TF_CONFIG", text)
        with pytest.raises(UserError, match=message) as error:
            make_strategy("multi-worker")
        assert "\n" not in str(error.value)
