"""The teacher's outputs, computed once and kept on disk next to the run.

The teacher is frozen, so its logits (and, when asked, hidden states and attention) for the
training texts never change: they are computed in one inference pass, written as `.npy` files
aligned with the examples, and read back (memory-mapped) by every epoch and by a resumed run.
A fingerprint of the teacher's weights and of the exact model inputs decides whether a cache
on disk is still valid; anything else recomputes it.

Layout of a cache folder:
    manifest.json          fingerprint, number of examples, what is stored
    logits.npy             (examples, classes) float32
    hidden_<i>.npy         (examples, sequence, width), teacher hidden state i
    attention_<i>.npy      (examples, heads, sequence, sequence), teacher encoder call i
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path

import keras
import numpy as np

from albert_tf.compress.distill.features import feature_model

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
# Cache format version: bump when the layout or the meaning of a file changes.
CACHE_FORMAT = 1


@dataclasses.dataclass
class TeacherOutputs:
    """Teacher outputs aligned with a list of examples.

    Args:
        logits: `(examples, classes)` float32.
        hidden: teacher hidden-state index -> `(examples, sequence, width)` array.
        attention: teacher encoder call -> `(examples, heads, sequence, sequence)` array.
        reused: True when read from an existing cache, False when computed now.
    """

    logits: np.ndarray
    hidden: dict[int, np.ndarray]
    attention: dict[int, np.ndarray]
    reused: bool


def _fingerprint(teacher, inputs: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256(f"format={CACHE_FORMAT}".encode())
    for weight in teacher.weights:
        digest.update(weight.path.encode())
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    for name in sorted(inputs):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(inputs[name]).tobytes())
    return digest.hexdigest()


def pad_rows(arrays: dict[str, np.ndarray], rows: int) -> dict[str, np.ndarray]:
    """Pad every array with zero rows up to `rows`, so every batch has one shape (one trace).

    Zero rows are all padding (`padding_mask` 0); their outputs are sliced off by the caller.
    """
    count = len(next(iter(arrays.values())))
    if count >= rows:
        return arrays
    return {name: np.concatenate([a, np.zeros((rows - count,) + a.shape[1:], a.dtype)])
            for name, a in arrays.items()}


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _atomic_write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _load(folder: Path, hidden_indices, attention_indices) -> TeacherOutputs:
    def load(name):
        return np.load(folder / f"{name}.npy", mmap_mode="r")

    return TeacherOutputs(
        logits=np.asarray(load("logits")),
        hidden={i: load(f"hidden_{i}") for i in hidden_indices},
        attention={i: load(f"attention_{i}") for i in attention_indices},
        reused=True,
    )


def teacher_outputs(teacher, inputs: dict[str, np.ndarray], folder, hidden_indices=(),
                    attention_indices=(), batch_size: int = 64, dtype: str = "float16",
                    verbose: int = 1) -> TeacherOutputs:
    """The teacher's outputs on `inputs`, from the cache in `folder` or computed into it.

    Args:
        teacher: the teacher classifier (only run in inference mode; never changed).
        inputs: tokenised model inputs `{"token_ids", "segment_ids", "padding_mask"}`, one
            row per example, in the order the targets must follow.
        folder: the cache folder (created if missing).
        hidden_indices: teacher hidden states to keep (0 = embedding output).
        attention_indices: teacher encoder calls whose attention probabilities to keep.
        batch_size: examples per inference batch.
        dtype: storage type of hidden states and attention ("float16" or "float32").
        verbose: 1 shows a progress bar while computing.

    Returns:
        `TeacherOutputs`, with `reused` telling whether the cache was valid.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hidden_indices = sorted(set(hidden_indices))
    attention_indices = sorted(set(attention_indices))
    count = len(inputs["token_ids"])
    if count == 0:
        raise ValueError("teacher_outputs needs at least one example")
    fingerprint = _fingerprint(teacher, inputs)
    manifest = _read_manifest(folder)
    if (manifest and manifest.get("fingerprint") == fingerprint
            and manifest.get("dtype") == dtype
            and set(hidden_indices) <= set(manifest.get("hidden", []))
            and set(attention_indices) <= set(manifest.get("attention", []))):
        logger.info("reusing cached teacher outputs for %d examples from %s", count, folder)
        return _load(folder, hidden_indices, attention_indices)

    logger.info("computing teacher outputs for %d examples (logits%s%s) into %s", count,
                f", hidden states {hidden_indices}" if hidden_indices else "",
                f", attention {attention_indices}" if attention_indices else "", folder)
    # Without a manifest, an interrupted rewrite is never mistaken for a valid cache.
    (folder / MANIFEST).unlink(missing_ok=True)
    model = feature_model(teacher, hidden_indices, attention_indices)
    arrays: dict[str, np.ndarray] = {}
    progress = keras.utils.Progbar(count, verbose=verbose, unit_name="example")
    for start in range(0, count, batch_size):
        batch = pad_rows({name: values[start:start + batch_size]
                          for name, values in inputs.items()}, batch_size)
        size = min(batch_size, count - start)
        outputs = model.predict_on_batch(batch)
        for name, values in outputs.items():
            values = values[:size]
            if name not in arrays:
                shape = (count,) + tuple(values.shape[1:])
                array_dtype = np.float32 if name == "logits" else np.dtype(dtype)
                arrays[name] = np.lib.format.open_memmap(
                    folder / f"{name}.npy.tmp", mode="w+", dtype=array_dtype, shape=shape)
            arrays[name][start:start + len(values)] = values
        progress.add(size)
    for array in arrays.values():
        array.flush()
    names = list(arrays)
    arrays.clear()  # closes the memory maps before the renames
    for name in names:
        os.replace(folder / f"{name}.npy.tmp", folder / f"{name}.npy")
    _atomic_write_json(folder / MANIFEST, {
        "format": CACHE_FORMAT, "fingerprint": fingerprint, "examples": count, "dtype": dtype,
        "hidden": hidden_indices, "attention": attention_indices,
    })
    outputs = _load(folder, hidden_indices, attention_indices)
    outputs.reused = False
    return outputs
