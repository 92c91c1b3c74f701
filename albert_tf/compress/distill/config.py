"""`DistillConfig`: every knob of a distillation run, validated once."""

from __future__ import annotations

import dataclasses
import typing
from typing import Literal

from albert_tf.errors import UserError, check_finite_numbers

# Unlabelled text sources the distiller can add (pseudo-labelled by the teacher).
# "training-split": the rest of the data's training split beyond its labelled subset
# (`train_limit`), labels not used; its caller (recipe runner, `albert-tf distill`) passes those
# texts, since only it knows the data source.
# The four VADER snippet sets (movie, product, editorial, tweets) carry sentiment: for a
# sentiment task they are in-genre text the teacher can label.
SNIPPET_SOURCES = ("movie-snippets", "product-snippets", "editorial-snippets", "sentiment-tweets")
AugmentSource = Literal["brown-corpus", "movie-snippets", "product-snippets",
                        "editorial-snippets", "sentiment-tweets", "training-split"]
AUGMENT_SOURCES = typing.get_args(AugmentSource)
TRAINING_SPLIT = "training-split"


@dataclasses.dataclass
class DistillConfig:
    """How a student learns from a teacher.

    The loss per batch is
    `alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 - alpha) · CE(y, s)
    + hidden_weight · mean over pairs of MSE(proj(h_s), h_t)
    + attention_weight · mean over pairs of KL(A_t ‖ A_s)`,
    hidden states and attention rows counted over real (unpadded) tokens only.

    Args:
        temperature: softening temperature T of both logit vectors (> 0).
        alpha: weight of the soft-label term; `1 - alpha` weighs the hard-label loss.
        hidden_weight: weight of the hidden-state transfer (0 turns it off).
        attention_weight: weight of the attention-distribution transfer (0 turns it off).
        layer_map: `(student, teacher)` hidden-state pairs; 0 is the embedding output and
            `i` the output of encoder call `i`. Empty means uniform: student call `i` of `n`
            against teacher call `round(i * m / n)` of `m`. Attention pairs use the same map
            (pairs with index 0 are skipped for attention).
        epochs: passes over the training (plus augmentation) texts.
        batch_size: examples per step.
        learning_rate: peak learning rate of AdamW (linear warm-up, cosine decay).
        weight_decay: AdamW weight decay.
        warmup_fraction: share of all steps spent warming up.
        clip_norm: clip gradients to this global norm (0 disables).
        patience: with a dev set, stop after this many epochs without a better dev accuracy
            (0 disables); the best dev epoch's student is returned either way.
        jit_compile: compile the train step with XLA.
        augment_sources: unlabelled text sources to add, from `AUGMENT_SOURCES`:
            "brown-corpus" (Brown Corpus sentences), the VADER paper's rated snippets
            "movie-snippets" (Rotten Tomatoes), "product-snippets" (Amazon reviews),
            "editorial-snippets" (New York Times) and "sentiment-tweets", their labels unused
            (any text of the run's dev or test split is left out like every augmentation
            text), and "training-split" (the whole training split's texts without their
            labels, given to `distill` as `unlabelled_texts`).
        augment_max_texts: at most this many augmentation texts in all (a seeded sample).
        augment_min_words: drop augmentation texts shorter than this.
        seed: seeds shuffling and augmentation sampling (seed Keras itself with
            `keras.utils.set_random_seed` before building the models).
        cache_dtype: storage type of cached hidden states and attention ("float16" halves the
            disk; logits are always float32).
        share_groups: anneal cross-layer sharing into this many shared layer groups (0: off).
            The student starts with one distinct layer per encoder call (albertize with
            `num_groups = num_layers`); over the `epochs`, each group's layers are pulled to
            their mean until identical, then tied (`albert_tf.compress.distill.sharing`).
        share_tie_epochs: with `share_groups`, epochs of distillation after tying.
        strategy: tf.distribute strategy: `default` (one device), `mirrored` (all local GPUs,
            or all logical CPUs without one) or `multi-worker` (`TF_CONFIG` describes the
            cluster); the student must be built inside its scope, and `batch_size` is split
            across the replicas.
    """

    temperature: float = 2.0
    alpha: float = 0.8
    hidden_weight: float = 0.0
    attention_weight: float = 0.0
    layer_map: tuple[tuple[int, int], ...] = ()
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    clip_norm: float = 1.0
    patience: int = 0
    jit_compile: bool = False
    augment_sources: tuple[AugmentSource, ...] = ()
    augment_max_texts: int = 20000
    augment_min_words: int = 4
    seed: int = 0
    cache_dtype: Literal["float16", "float32"] = "float16"
    share_groups: int = 0
    share_tie_epochs: int = 1
    strategy: Literal["default", "mirrored", "multi-worker"] = "default"

    def __post_init__(self):
        self.layer_map = tuple((int(s), int(t)) for s, t in self.layer_map)
        self.augment_sources = tuple(dict.fromkeys(self.augment_sources))  # each source once
        check_finite_numbers(self)
        if not self.temperature > 0:
            raise UserError(f"temperature must be > 0. Received: {self.temperature}")
        if not 0.0 <= self.alpha <= 1.0:
            raise UserError(f"alpha must lie in [0, 1]. Received: {self.alpha}")
        for name in ("hidden_weight", "attention_weight", "weight_decay", "clip_norm", "patience",
                     "share_groups", "share_tie_epochs"):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must be >= 0. Received: {getattr(self, name)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise UserError(f"epochs and batch_size must be >= 1. Received: epochs={self.epochs}, "
                            f"batch_size={self.batch_size}")
        if not self.learning_rate > 0:
            raise UserError(f"learning_rate must be > 0. Received: {self.learning_rate}")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise UserError(f"warmup_fraction must lie in [0, 1). Received: {self.warmup_fraction}")
        unknown = sorted(set(self.augment_sources) - set(AUGMENT_SOURCES))
        if unknown:
            raise UserError(f"unknown augmentation source(s) {unknown}: allowed are "
                            f"{', '.join(AUGMENT_SOURCES)}")
        if self.augment_max_texts < 0 or self.augment_min_words < 0:
            raise UserError("augment_max_texts and augment_min_words must be >= 0")
        if self.strategy not in ("default", "mirrored", "multi-worker"):
            raise UserError(f"unknown strategy {self.strategy!r}: expected one of default, "
                            "mirrored, multi-worker")
        if self.cache_dtype not in ("float16", "float32"):
            raise UserError("cache_dtype must be 'float16' or 'float32'. "
                            f"Received: {self.cache_dtype!r}")
        if any(s < 0 or t < 0 for s, t in self.layer_map):
            raise UserError(f"layer_map indices must be >= 0. Received: {list(self.layer_map)}")
        if len({s for s, _ in self.layer_map}) != len(self.layer_map):
            raise UserError(f"layer_map maps a student layer twice: {list(self.layer_map)}")

    @property
    def uses_features(self) -> bool:
        """True when hidden states or attention are transferred (needs a shared tokenizer)."""
        return self.hidden_weight > 0 or self.attention_weight > 0

    @classmethod
    def from_dict(cls, values: dict) -> DistillConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserError(f"unknown distillation setting(s) {unknown}: allowed are "
                            f"{sorted(known)}")
        return cls(**values)


def parse_layer_map(text: str) -> tuple[tuple[int, int], ...]:
    """Parse `"1:2,2:4,3:6"` (student:teacher pairs) into a layer map.

    Args:
        text: comma-separated `student:teacher` pairs of hidden-state indices.
    """
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            student, teacher = (int(v) for v in item.split(":"))
        except ValueError:
            raise UserError(f"bad layer map entry {item!r}: expected student:teacher, "
                            "e.g. 1:2") from None
        pairs.append((student, teacher))
    return tuple(pairs)


def uniform_layer_map(student_calls: int, teacher_calls: int) -> tuple[tuple[int, int], ...]:
    """Student call `i` (1..n) against teacher call `round(i * m / n)` (TinyBERT's uniform map).

    Args:
        student_calls: encoder calls of the student.
        teacher_calls: encoder calls of the teacher.
    """
    return tuple((i, max(1, round(i * teacher_calls / student_calls)))
                 for i in range(1, student_calls + 1))
