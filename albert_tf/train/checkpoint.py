"""Epoch checkpoints that let a killed run continue where it stopped.

After every epoch the model's weights, the optimizer's state (step counter, moments, loss
scale) and the training state (epoch, best dev score, patience, history) are written to
`<run_dir>/checkpoints/`. Weights go to a new file first; `state.json`, which names the file,
is replaced last, so a kill at any moment leaves the previous complete checkpoint in force.
"""

import json
import logging
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)


@dataclass
class TrainingState:
    """What a resumed run needs besides the weights."""

    epochs_done: int = 0
    best_score: float | None = None
    best_epoch: int | None = None
    epochs_without_improvement: int = 0
    stopped_early: bool = False
    history: list = field(default_factory=list)
    weights_file: str | None = None
    best_weights_file: str | None = None


def _write_failed(path: Path, tmp: Path, exc: OSError) -> UserError:
    """Remove the partial temporary file and say what happened (disk full, file too large,
    no permission): the checkpoint in force is still the previous one."""
    tmp.unlink(missing_ok=True)
    return UserError(f"could not write the checkpoint {path} ({exc.strerror or exc}): free "
                     "disk space or choose another run folder; the previous checkpoint is "
                     "kept, and --resume continues from it")


def atomic_save_npz(path: Path, arrays=(), **named) -> None:
    """`np.savez(path, *arrays, **named)` under a temporary name, then renamed: a kill or a
    full disk never leaves a half-written file at `path`."""
    tmp = path.with_name(path.name + ".tmp.npz")
    try:
        np.savez(tmp, *arrays, **named)
        os.replace(tmp, path)
    except OSError as exc:
        raise _write_failed(path, tmp, exc) from None


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise _write_failed(path, tmp, exc) from None


def load_npz(path: Path) -> list:
    """The positional arrays (`arr_0`, `arr_1`, ...) of an `.npz` file; a damaged file is a
    `UserError`."""
    try:
        with np.load(path) as data:
            return [data[f"arr_{i}"] for i in range(len(data.files))]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc}): it is "
                        "truncated or damaged; delete the checkpoints folder to start over, or "
                        "restore the file") from None


def _assign(variables, arrays, what: str) -> None:
    shapes_differ = len(variables) != len(arrays) or any(
        tuple(v.shape) != tuple(a.shape) for v, a in zip(variables, arrays))
    if shapes_differ:
        raise UserError(f"the checkpoint's {what} weights ({len(arrays)} arrays) do not fit this "
                        f"{what} ({len(variables)}): it was made with another model size or "
                        "settings; resume with the settings it was made with, or use a new run "
                        "folder")
    for variable, array in zip(variables, arrays):
        variable.assign(array)


class CheckpointStore:
    """Reads and writes the checkpoints of one run folder."""

    def __init__(self, run_dir: str | os.PathLike):
        self.folder = Path(run_dir) / "checkpoints"
        self.state_path = self.folder / "state.json"

    def exists(self) -> bool:
        return self.state_path.is_file()

    def load_state(self) -> TrainingState:
        try:
            return TrainingState(**json.loads(self.state_path.read_text()))
        except (ValueError, TypeError) as exc:
            raise UserError(f"{self.state_path} is not a checkpoint state this version wrote "
                            f"({type(exc).__name__}: {exc}); delete the checkpoints folder to "
                            "start over") from None

    def save(self, model, state: TrainingState, improved: bool) -> None:
        """Write this epoch's weights (and the best weights when `improved`), then the state."""
        self.folder.mkdir(parents=True, exist_ok=True)
        epoch = state.epochs_done
        weights_file = f"epoch-{epoch:03d}.npz"
        optimizer_vars = list(model.optimizer.variables) if model.optimizer else []
        atomic_save_npz(self.folder / weights_file,
                         [v.numpy() for v in model.weights] + [v.numpy() for v in optimizer_vars])
        old_files = {state.weights_file, state.best_weights_file}
        state.weights_file = weights_file
        if improved:
            state.best_weights_file = f"best-{epoch:03d}.npz"
            atomic_save_npz(self.folder / state.best_weights_file,
                             [v.numpy() for v in model.weights])
        _atomic_write_text(self.state_path, json.dumps(asdict(state), indent=2))
        for name in old_files - {state.weights_file, state.best_weights_file, None}:
            (self.folder / name).unlink(missing_ok=True)
        logger.info("checkpoint: epoch %d saved to %s", epoch, self.folder)

    def restore_last(self, model, state: TrainingState) -> None:
        """Put the last epoch's model weights and optimizer state back."""
        arrays = load_npz(self.folder / state.weights_file)
        n = len(model.weights)
        _assign(model.weights, arrays[:n], "model")
        if model.optimizer is not None and len(arrays) > n:
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            _assign(model.optimizer.variables, arrays[n:], "optimizer")

    def restore_best(self, model, state: TrainingState) -> None:
        if state.best_weights_file:
            _assign(model.weights, load_npz(self.folder / state.best_weights_file), "model")


def _dotted(data: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_dotted(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_resume_settings(path: Path, settings: dict, resume: bool, resumable) -> None:
    """Refuse to resume a run with settings other than those its checkpoint was made with,
    naming each change; then record `settings` in `path` for the next resume.

    Args:
        path: the JSON file of the run folder that keeps its settings.
        settings: this run's settings (nested mappings are compared key by key, dotted).
        resume: whether this run continues an earlier one; the check applies only then, and
            only when `path` exists.
        resumable: dotted keys that may change between a run and its resume (how long it
            goes on).
    """
    current = json.loads(json.dumps(settings, default=str))
    if resume and path.is_file():
        try:
            saved = _dotted(json.loads(path.read_text()))
        except ValueError as exc:
            raise UserError(f"{path} is not readable JSON ({exc}): the run folder was damaged; "
                            "use a new run folder") from None
        now = _dotted(current)
        changed = sorted(k for k in set(saved) | set(now)
                         if k not in resumable and saved.get(k) != now.get(k))
        if changed:
            raise UserError(
                f"cannot resume {path.parent}: its checkpoint was made with different settings: "
                + ", ".join(f"{k} {saved.get(k)!r} -> {now.get(k)!r}" for k in changed[:5])
                + f"; only {', '.join(sorted(resumable))} may change. Use a new run folder")
    _atomic_write_text(path, json.dumps(current, indent=2))
