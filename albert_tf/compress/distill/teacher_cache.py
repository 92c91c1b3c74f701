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


def _batches(count: int, batch_size: int, lengths, full_length: int):
    """`(rows, width)` per inference batch: in order at full length, or with `lengths`
    shortest rows first, each batch trimmed to its longest row (rounded up to a multiple of
    `TRIM_MULTIPLE`, so few shapes get traced)."""
    from albert_tf.data.batches import TRIM_MULTIPLE

    if lengths is None:
        for start in range(0, count, batch_size):
            yield np.arange(start, min(start + batch_size, count)), full_length
        return
    lengths = np.asarray(lengths)
    order = np.argsort(lengths, kind="stable")
    for start in range(0, count, batch_size):
        rows = order[start:start + batch_size]
        longest = max(int(lengths[rows].max()), 1)
        yield rows, min(full_length, -(-longest // TRIM_MULTIPLE) * TRIM_MULTIPLE)


def _untrimmed_shape(name: str, shape, full_length: int) -> tuple:
    """The per-row shape of output `name` at full length: attention maps run over positions
    on their last two axes, hidden states and per-token logits on their first; sentence
    logits on none."""
    shape = tuple(shape)
    if name.startswith("attention_"):
        return shape[:-2] + (full_length, full_length)
    return (full_length,) + shape[1:] if len(shape) >= 2 else shape


def _positions(name: str, ndim: int, rows, width: int):
    """Where a trimmed batch's values go in the full-length arrays."""
    if name.startswith("attention_"):
        return rows, slice(None), slice(0, width), slice(0, width)
    return (rows, slice(0, width)) if ndim >= 3 else rows


def teacher_outputs(teacher, inputs: dict[str, np.ndarray], folder, hidden_indices=(),
                    attention_indices=(), batch_size: int = 64, dtype: str = "float16",
                    verbose: int = 1, lengths=None) -> TeacherOutputs:
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
        lengths: each row's real length (a tagger's sentences, mostly short): run the teacher
            on batches of similar length trimmed to their longest row; the positions cut are
            padding (stored as 0), so the rest equals the untrimmed outputs. None: full length.

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
    full_length = inputs["token_ids"].shape[1]
    for rows, width in _batches(count, batch_size, lengths, full_length):
        batch = pad_rows({name: values[rows, :width] for name, values in inputs.items()},
                         batch_size)
        outputs = model.predict_on_batch(batch)
        for name, values in outputs.items():
            values = values[:len(rows)]
            if name not in arrays:
                shape = (count,) + _untrimmed_shape(name, values.shape[1:], full_length)
                array_dtype = np.float32 if name == "logits" else np.dtype(dtype)
                # A new file reads as zeros: trimmed positions stay 0 (padding, never scored).
                arrays[name] = np.lib.format.open_memmap(
                    folder / f"{name}.npy.tmp", mode="w+", dtype=array_dtype, shape=shape)
            arrays[name][_positions(name, values.ndim, rows, width)] = values
        progress.add(len(rows))
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
