"""tf.data batches of student inputs with the teacher's cached targets, row-aligned.

All arrays share their first axis (one row per example). Batches are gathered by index
(`albert_tf.data.batches`), so the cached hidden states and attention can stay memory-mapped on
disk: only the rows of the current batch are read (and widened from float16 to float32).
"""

from __future__ import annotations

import numpy as np

from albert_tf.data.batches import array_batches

INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def distillation_dataset(inputs: dict[str, np.ndarray], targets: dict[str, np.ndarray],
                         batch_size: int, shuffle: bool = True, seed: int = 0,
                         first_pass: int = 0, lengths: np.ndarray | None = None):
    """`(x, y)` batches: `x` the student's inputs, `y` the teacher's targets (and labels).

    Args:
        inputs: `{"token_ids", "segment_ids", "padding_mask"}` int arrays.
        targets: named arrays (`labels`, `logits`, `hidden_<i>`, `attention_<i>`); float
            arrays may be memory maps.
        batch_size: examples per batch.
        shuffle: reshuffle the examples every epoch (and, with at least one full batch, skip
            the incomplete last batch).
        seed: shuffle seed (the order depends on it and the epoch alone).
        first_pass: the epoch the first iteration counts as (a resumed run's finished epochs).
        lengths: each row's real length (a tagger's sentences): batch rows of similar length
            and trim every per-position array to the batch's longest row
            (`albert_tf.data.batches`). Not with attention targets, whose two position axes
            are not trimmed: those batches stay at full length.
    """
    count = len(inputs["token_ids"])
    clash = set(INPUT_NAMES) & set(targets)
    if clash:
        raise ValueError(f"target names must differ from input names. Received: {sorted(clash)}")
    # One batch shape means one traced train step (a ragged last batch would trace a second
    # one, which costs more than the few examples it skips, reshuffled every epoch).
    drop_remainder = shuffle and count >= batch_size
    arrays = {**{n: inputs[n] for n in INPUT_NAMES}, **targets}
    bucketing = {}
    if lengths is not None and not any(n.startswith("attention_") for n in targets):
        full_length = inputs["token_ids"].shape[1]
        bucketing = {"lengths": lengths, "sequence_arrays": [
            n for n, a in arrays.items() if a.ndim >= 2 and a.shape[1] == full_length]}
    batches = array_batches(arrays, batch_size, shuffle=shuffle, seed=seed,
                            drop_remainder=drop_remainder, first_pass=first_pass, **bucketing)
    return batches.map(lambda b: ({n: b[n] for n in INPUT_NAMES},
                                  {n: b[n] for n in sorted(targets)}))
