"""Training on a two-worker `MultiWorkerMirroredStrategy` cluster on 127.0.0.1: pre-training,
fine-tuning and distillation end with the same weights on both workers, only the chief's checkpoints are
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
TIMEOUT = 480  # seconds a cluster may take on two busy cores; a hang fails, not blocks
JOB_SCRIPT = Path(__file__).with_name("multi_worker_job.py")
SOURCE_ROOT = str(Path(albert_tf.__file__).resolve().parents[1])


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


def _checkpoint(run_dir: Path):
    state = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    with np.load(run_dir / "checkpoints" / state["weights_file"]) as data:
        return state, [data[f"arr_{i}"] for i in range(len(data.files))]


@pytest.fixture(scope="module")
def cluster_run(brown_txt, tmp_path_factory):
    """A two-worker pre-training killed after its first checkpoint, then the cluster
    restarted with --resume to two steps further, then a fine-tuning and a distillation.

    With synchronous training a dead worker stops the other one too, so the whole cluster is
    stopped and restarted. Returns the run folder and the checkpoint state before the restart.
    """
    run_dir = tmp_path_factory.mktemp("multi_worker")
    logs = run_dir / "logs"
    job = [sys.executable, str(JOB_SCRIPT), str(run_dir), str(brown_txt)]
    workers = _start_cluster([*job, "400"], logs)
    state_path = run_dir / "pretrain" / "checkpoints" / "state.json"
    deadline = time.monotonic() + TIMEOUT
    while not (state_path.is_file() and json.loads(state_path.read_text())["history"]):
        if time.monotonic() > deadline or workers[0][0].poll() is not None:
            for process, _ in workers:
                process.kill()
            _wait(workers)
            pytest.fail(_logs(logs))
        time.sleep(0.2)
    workers[1][0].send_signal(signal.SIGKILL)
    time.sleep(2)
    workers[0][0].send_signal(signal.SIGKILL)  # a chief left alone waits for its peer
    _wait(workers)
    before, _ = _checkpoint(run_dir / "pretrain")
    done = before["history"][-1]["step"]
    assert 2 <= done < 400
    codes = _wait(_start_cluster([*job, str(done + 2), "--resume"], logs))
    assert codes == [0, 0], _logs(logs)
    return run_dir, before


def test_two_workers_pretrain_to_identical_weights(cluster_run):
    run_dir = cluster_run[0] / "pretrain"
    worker = run_dir / "workers" / "worker-1"
    _assert_same(_saved_weights(run_dir / "model"), _saved_weights(worker / "model"))
    # Only the chief's checkpoints are kept: the other worker's are deleted once written.
    assert not (worker / "checkpoints").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["job"]["strategy"] == "multi-worker"


def test_two_workers_distil_to_identical_weights(cluster_run):
    run_dir = cluster_run[0] / "distill"
    worker = run_dir / "workers" / "worker-1"
    _assert_same(_saved_weights(run_dir / "student"), _saved_weights(worker / "student"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_done"] == 2 and metrics["config"]["strategy"] == "multi-worker"
    assert all(np.isfinite(h["loss"]) for h in metrics["history"])
    assert not (worker / "checkpoints").exists()


def test_two_workers_finetune_to_identical_weights(cluster_run):
    run_dir = cluster_run[0] / "finetune"
    worker = run_dir / "workers" / "worker-1"
    _assert_same(_saved_weights(run_dir / "model"), _saved_weights(worker / "model"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["training"]["epochs_done"] == 2 and metrics["job"]["strategy"] == "multi-worker"
    assert not (worker / "checkpoints").exists()


def test_a_restarted_cluster_resumes_from_the_last_checkpoint(cluster_run):
    """Asserted: the finished steps' history is kept as it was, training goes on from the last
    checkpoint to the step asked for, and the optimizer's step counter in the last checkpoint
    says the weights went through exactly that many steps. Not asserted: equality with an
    uninterrupted run, which would need another cluster (a minute here) and a run of the same
    length, and dropout's random state is not part of a checkpoint."""
    run_dir, before = cluster_run
    done = before["history"][-1]["step"]
    after, arrays = _checkpoint(run_dir / "pretrain")
    assert after["history"][:len(before["history"])] == before["history"]
    assert [h["step"] for h in after["history"][len(before["history"]):]] == [done + 2]
    assert all(np.isfinite(h["val_mlm_loss"]) for h in after["history"])
    counters = [int(a) for a in arrays if a.shape == () and a.dtype.kind == "i"]
    assert done + 2 in counters


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
