"""Fine-tuning settings (kept free of TensorFlow imports, so CLI parsing stays fast)."""

from dataclasses import dataclass
from typing import Literal

from albert_tf.errors import check_fields

# Keras dtype policies and tf.distribute strategies a job may ask for by name
# (`albert_tf.train.strategy`).
Precision = Literal["float32", "mixed_bfloat16", "mixed_float16"]
Strategy = Literal["default", "mirrored", "multi-worker", "tpu"]


@dataclass
class FinetuneConfig:
    """Fine-tuning settings.

    Args:
        epochs: passes over the training data (at most; early stopping may end sooner).
        batch_size: examples per optimizer step (global, across replicas).
        learning_rate: peak learning rate after warm-up.
        weight_decay: AdamW decoupled weight decay (not applied to biases and LayerNorm).
        warmup_fraction: share of all steps spent warming up.
        clip_norm: clip each gradient to this global norm (0 disables).
        patience: stop after this many epochs without a better dev accuracy (0 disables).
        jit_compile: compile the train step with XLA.
        seed: seed for Keras, numpy and TensorFlow; set it with `keras.utils.set_random_seed`
            before tokenisers and datasets exist (setting it clears TensorFlow's kernel
            cache, which drops the SentencePiece op's resource under a live dataset).
    """

    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    clip_norm: float = 1.0
    patience: int = 2
    jit_compile: bool = False
    seed: int = 0

    def __post_init__(self):
        check_fields(self, [
            ("epochs", self.epochs >= 1, "an integer >= 1"),
            ("batch_size", self.batch_size >= 1, "an integer >= 1"),
            ("learning_rate", self.learning_rate > 0, "a number > 0"),
            ("weight_decay", self.weight_decay >= 0, "a number >= 0"),
            ("warmup_fraction", 0 <= self.warmup_fraction < 1, "a number in [0, 1)"),
            ("clip_norm", self.clip_norm >= 0, "a number >= 0"),
            ("patience", self.patience >= 0, "an integer >= 0"),
        ])
