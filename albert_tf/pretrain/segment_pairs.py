"""Pre-training examples: segment pairs for sentence-order prediction, masked on the fly.

Built the way ALBERT's `create_pretraining_data.py` builds them: the segments of a document
are gathered into chunks of up to `sequence_length - 3` tokens; a chunk of two or more
segments is cut at a random segment boundary into A and B, and with probability 0.5 the two
are swapped (SOP label 1, label 0 in order). A chunk of one segment (a one-sentence document,
or a sentence longer than the chunk) becomes a single-segment example that trains masked
language modelling only (SOP weight 0). Differences from ALBERT's script: no shorter random
target lengths (`short_seq_prob`) and no n-gram masking (keras-hub's mask generator masks
single tokens).

Tokenised, packed examples are kept as arrays (`PackedExamples`, cached in the run folder);
masking happens afterwards, per batch, in the `tf.data` pipeline, so every pass over the data
masks other tokens (dynamic masking, as in RoBERTa and keras-hub's MaskedLM preprocessors).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

MASK_RATE = 0.15  # BERT / ALBERT: 15 % of tokens, of which 80 % [MASK], 10 % random, 10 % kept


@dataclass
class PackedExamples:
    """Packed `[CLS] A [SEP] B [SEP]` examples, padded to one length."""

    token_ids: np.ndarray  # int32 [n, length]
    segment_ids: np.ndarray  # int32 [n, length]: 0 for [CLS] A [SEP], 1 for B [SEP]
    sop_labels: np.ndarray  # int32 [n]: 1 when A and B were swapped
    sop_weights: np.ndarray  # float32 [n]: 0 for single-segment examples

    def __len__(self) -> int:
        return len(self.sop_labels)

    def select(self, indices) -> PackedExamples:
        return PackedExamples(self.token_ids[indices], self.segment_ids[indices],
                              self.sop_labels[indices], self.sop_weights[indices])

    def save(self, path: Path) -> None:
        from albert_tf.train.checkpoint import atomic_save_npz

        atomic_save_npz(path, token_ids=self.token_ids, segment_ids=self.segment_ids,
                        sop_labels=self.sop_labels, sop_weights=self.sop_weights)

    @classmethod
    def load(cls, path: Path) -> PackedExamples:
        with np.load(path) as data:
            return cls(data["token_ids"], data["segment_ids"], data["sop_labels"],
                       data["sop_weights"])


@dataclass(frozen=True)
class SpecialIds:
    """The tokenizer's ids that packing and masking need."""

    pad: int
    cls: int
    sep: int
    mask: int
    vocabulary_size: int

    @classmethod
    def of(cls, tokenizer) -> SpecialIds:
        return cls(int(tokenizer.pad_token_id), int(tokenizer.cls_token_id),
                   int(tokenizer.sep_token_id), int(tokenizer.mask_token_id),
                   int(tokenizer.vocabulary_size()))


def tokenize_documents(documents: list[list[str]], tokenizer,
                       batch: int = 4096) -> list[list[list[int]]]:
    """Token ids of every segment, documents kept apart; segments with no token dropped."""
    flat = [segment for document in documents for segment in document]
    ids: list[list[int]] = []
    for start in range(0, len(flat), batch):
        tokens = tokenizer(flat[start:start + batch])
        # keras-hub hands a list of strings back as lists, a tensor as a ragged tensor.
        ids.extend(tokens.to_list() if hasattr(tokens, "to_list") else
                   [list(map(int, t)) for t in tokens])
    out, position = [], 0
    for document in documents:
        segments = [s for s in ids[position:position + len(document)] if s]
        position += len(document)
        if segments:
            out.append(segments)
    return out


def make_examples(documents: list[list[list[int]]], special: SpecialIds, sequence_length: int,
                  seed: int = 0) -> PackedExamples:
    """Pack tokenised documents into examples of `sequence_length` tokens.

    Raises:
        UserError: when no document has two segments (sentence-order prediction has no pair).
    """
    if sequence_length < 8:
        raise UserError(f"sequence_length must be at least 8 for pre-training. Received: "
                        f"{sequence_length}")
    rng = np.random.default_rng(seed)
    budget = sequence_length - 3  # [CLS], [SEP], [SEP]
    rows: list[tuple[list[int], list[int] | None, int]] = []
    for segments in documents:
        chunk, size = [], 0
        for i, segment in enumerate(segments):
            chunk.append(segment)
            size += len(segment)
            if size >= budget or i == len(segments) - 1:
                rows.extend(_chunk_rows(chunk, budget, rng))
                chunk, size = [], 0
    if not any(b is not None for _, b, _ in rows):
        raise UserError("sentence-order prediction needs documents of two or more segments "
                        "(sentences), and this corpus has none: give documents of several "
                        "sentences (e.g. .txt blocks of several lines, or brown-corpus)")
    token_ids = np.full((len(rows), sequence_length), special.pad, np.int32)
    segment_ids = np.zeros((len(rows), sequence_length), np.int32)
    labels = np.zeros(len(rows), np.int32)
    weights = np.zeros(len(rows), np.float32)
    for row, (a, b, label) in enumerate(rows):
        packed = [special.cls, *a, special.sep]
        if b is not None:
            segment_ids[row, len(packed):len(packed) + len(b) + 1] = 1
            packed += [*b, special.sep]
            labels[row], weights[row] = label, 1.0
        token_ids[row, :len(packed)] = packed
    logger.info("%d examples of %d tokens: %d segment pairs, %d single segments",
                len(rows), sequence_length, int(weights.sum()), int(len(rows) - weights.sum()))
    return PackedExamples(token_ids, segment_ids, labels, weights)


def _chunk_rows(chunk: list[list[int]], budget: int, rng):
    """One `(A, B, swapped)` row for a chunk of two or more segments; single-segment rows
    (B None) of at most `budget + 1` tokens for a chunk of one."""
    if len(chunk) == 1:
        tokens = chunk[0]
        return [(tokens[i:i + budget + 1], None, 0) for i in range(0, len(tokens), budget + 1)]
    a_end = int(rng.integers(1, len(chunk)))
    a = [t for s in chunk[:a_end] for t in s]
    b = [t for s in chunk[a_end:] for t in s]
    # Trim the longer side (from its far end, so the A|B boundary stays intact).
    while len(a) + len(b) > budget:
        if len(a) > len(b):
            a = a[1:]
        else:
            b = b[:-1]
    if rng.random() < 0.5:
        return [(b, a, 1)]
    return [(a, b, 0)]


def mask_generator(special: SpecialIds, sequence_length: int, mask_rate: float = MASK_RATE):
    """keras-hub's dynamic masker: `mask_rate` of the non-special tokens, 80 % of them
    replaced by [MASK], 10 % by a random token, 10 % kept."""
    import keras_hub

    return keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=special.vocabulary_size, mask_selection_rate=mask_rate,
        mask_token_id=special.mask,
        mask_selection_length=max(1, int(round(sequence_length * mask_rate)) + 1),
        unselectable_token_ids=[special.pad, special.cls, special.sep],
        mask_token_rate=0.8, random_token_rate=0.1)


def make_dataset(examples: PackedExamples, special: SpecialIds, batch_size: int, *,
                 shuffle: bool, seed: int = 0, repeat: bool = False, skip_batches: int = 0,
                 mask_rate: float = MASK_RATE):
    """`(x, y, sample_weight)` batches for the pre-training model, masked per batch.

    Args:
        examples: packed examples.
        special: the tokenizer's special ids.
        batch_size: global batch size.
        shuffle: reshuffle every pass (seeded, so a resumed run sees the same order).
        seed: shuffle seed.
        repeat: repeat forever (training).
        skip_batches: batches already trained on (a resumed run goes on after them).
        mask_rate: share of tokens to mask.
    """
    import tensorflow as tf

    masker = mask_generator(special, examples.token_ids.shape[1], mask_rate)
    data = tf.data.Dataset.from_tensor_slices((
        examples.token_ids, examples.segment_ids, examples.sop_labels, examples.sop_weights))
    if shuffle:
        data = data.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        data = data.repeat()
    data = data.batch(batch_size, drop_remainder=repeat)
    if skip_batches:
        data = data.skip(skip_batches)

    def masked(token_ids, segment_ids, sop_labels, sop_weights):
        masks = masker(token_ids)
        x = {"token_ids": masks["token_ids"], "segment_ids": segment_ids,
             "padding_mask": token_ids != special.pad, "mask_positions": masks["mask_positions"]}
        y = {"mlm": masks["mask_ids"], "sop": sop_labels}
        # float32 whatever the dtype policy: a bfloat16 array saved by numpy reads back as void.
        weights = {"mlm": tf.cast(masks["mask_weights"], "float32"), "sop": sop_weights}
        return x, y, weights

    return data.map(masked, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
