"""Settings of a pre-training run: `PretrainJob` and its optimisation `PretrainConfig`,
validated when constructed (apart from the run itself, so the CLI reads them without numpy or
TensorFlow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from albert_tf.errors import UserError, check_fields


@dataclass
class PretrainConfig:
    """Optimisation settings.

    Args:
        steps: optimizer steps in all.
        batch_size: examples per step (global, across replicas).
        learning_rate: peak AdamW learning rate after warm-up, then linear decay to 0.
        weight_decay: AdamW decoupled weight decay (not on biases and LayerNorm).
        warmup_fraction: share of the steps spent warming up.
        clip_norm: global gradient-norm clip (0 disables).
        checkpoint_every: steps between checkpoints (and held-out scores).
        mask_rate: share of tokens masked for MLM.
        seed: seed for Keras, numpy and TensorFlow, for the example order and masks.
    """

    steps: int = 10_000
    batch_size: int = 64
    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    clip_norm: float = 1.0
    checkpoint_every: int = 500
    mask_rate: float = 0.15
    seed: int = 0

    def __post_init__(self):
        check_fields(self, [
            ("steps", self.steps >= 1, "an integer >= 1"),
            ("batch_size", self.batch_size >= 1, "an integer >= 1"),
            ("learning_rate", self.learning_rate > 0, "a number > 0"),
            ("weight_decay", self.weight_decay >= 0, "a number >= 0"),
            ("warmup_fraction", 0 <= self.warmup_fraction < 1, "a number in [0, 1)"),
            ("clip_norm", self.clip_norm >= 0, "a number >= 0"),
            ("checkpoint_every", self.checkpoint_every >= 1, "an integer >= 1"),
            ("mask_rate", 0 < self.mask_rate < 1, "a number in (0, 1)"),
        ])


@dataclass
class PretrainJob:
    """A whole pre-training job.

    Args:
        corpus: sources of unlabelled documents (see `albert_tf.pretrain.corpus`).
        model: a named configuration (a new model; its tokenizer is trained on the corpus) or
            a keras-hub ALBERT preset name / folder (continued pre-training with its own
            tokenizer).
        vocab_size: pieces of the tokenizer trained for a named configuration.
        vocabulary: the kind of tokenizer trained for a named configuration: `pieces`
            (SentencePiece unigram, ALBERT's), `characters` (one piece per character, the
            vocabulary a Chinese character tagger uses), or `auto`: characters when at least
            half of the corpus's characters are CJK ideographs.
        sequence_length: tokens per example.
        held_out_fraction: share of documents kept for the held-out MLM / SOP scores.
        corpus_seed: the seed of the dev / test splits left out of evaluated sources.
        leave_out: classification sources outside the corpus whose dev and test texts must not
            be trained on (those the model will be evaluated on).
        train: `PretrainConfig`.
        precision: `float32`, `mixed_bfloat16` or `mixed_float16`.
        strategy: tf.distribute strategy: `default` (one device), `mirrored` (all local GPUs,
            or all logical CPUs without one) or `multi-worker` (`TF_CONFIG` describes the
            cluster); `batch_size` is split across the replicas.
    """

    corpus: list[str] = field(default_factory=list)
    model: str = "albert-small"
    vocab_size: int = 8000
    vocabulary: Literal["auto", "pieces", "characters"] = "auto"
    sequence_length: int = 128
    held_out_fraction: float = 0.02
    corpus_seed: int = 0
    leave_out: list[str] = field(default_factory=list)
    train: PretrainConfig = field(default_factory=PretrainConfig)
    precision: Literal["float32", "mixed_bfloat16", "mixed_float16"] = "float32"
    strategy: Literal["default", "mirrored", "multi-worker"] = "default"

    def __post_init__(self):
        if not 0 < self.held_out_fraction < 0.5:
            raise UserError("held_out_fraction must be a number in (0, 0.5). Received: "
                            f"held_out_fraction={self.held_out_fraction}")
