"""Pre-training on a two-worker `MultiWorkerMirroredStrategy` cluster on 127.0.0.1: both
workers end with the same weights, and a cluster restarted after a worker was killed goes on
from the last checkpoint without losing a finished step."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start_cluster(brown_txt, run_dir, steps, *extra):
    ports = _free_ports(2)
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                     "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "CUDA_VISIBLE_DEVICES": ""}
        log = open(run_dir.parent / f"worker-{index}-{len(list(run_dir.parent.glob('*.log')))}.log",
                   "w")
        args = [sys.executable, "-m", "albert_tf.cli", "pretrain", "--corpus", str(brown_txt),
                "--model", "albert-tiny", "--vocab-size", "600", "--sequence-length", "32",
                "--batch-size", "8", "--learning-rate", "2e-3", "--held-out-fraction", "0.1",
                "--steps", str(steps), "--strategy", "multi-worker", "--run-dir", str(run_dir),
                *extra]
        workers.append((subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env),
                        log))
    return workers


def _wait(workers, timeout=420):
    codes = []
    for process, log in workers:
        codes.append(process.wait(timeout=timeout))
        log.close()
    return codes


def _logs(run_dir):
    return "\n".join(p.read_text()[-3000:] for p in sorted(run_dir.parent.glob("*.log")))


def _checkpoint(folder):
    state = json.loads((folder / "checkpoints" / "state.json").read_text())
    with np.load(folder / "checkpoints" / state["weights_file"]) as data:
        return state, [data[f"arr_{i}"] for i in range(len(data.files))]


def test_two_workers_end_with_identical_weights(brown_txt, tmp_path):
    run_dir = tmp_path / "run"
    codes = _wait(_start_cluster(brown_txt, run_dir, 8, "--checkpoint-every", "4"))
    assert codes == [0, 0], _logs(run_dir)
    chief_state, chief = _checkpoint(run_dir)
    worker_state, worker = _checkpoint(run_dir / "workers" / "worker-1")
    assert [h["step"] for h in chief_state["history"]] == [4, 8]
    assert len(chief) == len(worker) > 10
    for a, b in zip(chief, worker):
        np.testing.assert_array_equal(a, b)
    assert (run_dir / "model" / "config.json").is_file()  # the chief's output only
    assert not (run_dir / "workers" / "worker-1" / "model").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["job"]["strategy"] == "multi-worker" and metrics["steps"] == 8


def test_a_restarted_cluster_resumes_from_the_last_checkpoint(brown_txt, tmp_path):
    """A worker is killed mid-run: with synchronous training the other cannot go on, so the
    whole cluster is stopped and restarted with --resume (and more --steps, to end soon)."""
    run_dir = tmp_path / "run"
    workers = _start_cluster(brown_txt, run_dir, 2000, "--checkpoint-every", "10")
    state_path = run_dir / "checkpoints" / "state.json"
    deadline = time.monotonic() + 300
    while not (state_path.is_file() and json.loads(state_path.read_text())["history"]):
        assert time.monotonic() < deadline and workers[0][0].poll() is None, _logs(run_dir)
        time.sleep(0.2)
    workers[1][0].send_signal(signal.SIGKILL)
    time.sleep(5)
    workers[0][0].send_signal(signal.SIGKILL)  # a chief left alone waits for its peer
    _wait(workers)
    before, _ = _checkpoint(run_dir)
    done = before["history"][-1]["step"]
    assert 10 <= done < 2000
    codes = _wait(_start_cluster(brown_txt, run_dir, done + 20, "--checkpoint-every", "10",
                                 "--resume"))
    assert codes == [0, 0], _logs(run_dir)
    after, chief = _checkpoint(run_dir)
    assert after["history"][:len(before["history"])] == before["history"]
    assert [h["step"] for h in after["history"][-2:]] == [done + 10, done + 20]
    _, worker = _checkpoint(run_dir / "workers" / "worker-1")
    for a, b in zip(chief, worker):
        np.testing.assert_array_equal(a, b)
