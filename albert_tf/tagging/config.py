"""Settings of the tagging stages: `TaggingDataSpec`, `TagFinetuneJob` and
`TokenDistillConfig` (validated when constructed); pruning takes `compress.prune.PruneConfig`,
like text classifiers. Kept apart from the training
code so that the CLI and the recipe schema read them without starting TensorFlow."""

from __future__ import annotations

import dataclasses

from albert_tf.errors import UserError, check_finite_numbers
from albert_tf.train.config import FinetuneConfig, Precision


@dataclasses.dataclass
class TaggingDataSpec:
    """Which tagged sentences to use.

    Args:
        source: `brown-corpus` (12 universal POS tags) or a CoNLL file (one token per line,
            a blank line between sentences); `dev_file` / `test_file` may give the other
            splits, missing splits are carved from `source`.
        dev_file: CoNLL file of the dev split (None: carved from `source`).
        test_file: CoNLL file of the test split (None: carved from `source`).
        word_column: CoNLL word column (0: the first).
        tag_column: CoNLL tag column (-1: the last, as in CoNLL-2003 NER).
        separator: CoNLL column separator (None: any whitespace).
        seed: split seed (and, for `albert-tf tag finetune`, shuffling and initialisation).
        train_limit: use the first N training sentences, for CPU budgets (None: all).
        dev_limit: use the first N dev sentences (None: all).
        test_limit: use the first N test sentences (None: all).
    """

    source: str = "brown-corpus"
    dev_file: str | None = None
    test_file: str | None = None
    word_column: int = 0
    tag_column: int = -1
    separator: str | None = None
    seed: int = 0
    train_limit: int | None = None
    dev_limit: int | None = None
    test_limit: int | None = None


@dataclasses.dataclass
class TagFinetuneJob:
    """A whole tagging fine-tuning job (`albert-tf tag finetune`).

    Args:
        data: `TaggingDataSpec`.
        model: named configuration (`albert-tiny`, `albert-small`, `albert-base`),
            `minilm-teacher`, a dict of `AlbertBackbone` shape arguments, an ALBERT or BERT
            preset folder or name, or a saved token classifier folder.
        tokenizer: SentencePiece `.model` for named configurations; None trains one on the
            training split's words (`vocab_size` pieces).
        vocab_size: pieces of a tokenizer trained here.
        sequence_length: sub-tokens per sentence, `[CLS]` and `[SEP]` included.
        train: `FinetuneConfig`.
        precision: Keras dtype policy while fine-tuning (`mixed_bfloat16` on GPUs and CPUs
            with AMX / AVX-512 BF16).
    """

    data: TaggingDataSpec = dataclasses.field(default_factory=TaggingDataSpec)
    model: str | dict = "albert-tiny"
    tokenizer: str | None = None
    vocab_size: int = 8000
    sequence_length: int = 128
    train: FinetuneConfig = dataclasses.field(default_factory=FinetuneConfig)
    precision: Precision = "float32"


@dataclasses.dataclass
class TokenDistillConfig:
    """Distillation settings.

    Args:
        epochs: passes over the training sentences.
        batch_size: sentences per step.
        learning_rate: peak AdamW learning rate (warm-up, then linear decay).
        temperature: softening temperature T of both distributions.
        alpha: weight of the soft-label term; `1 - alpha` weighs the true tags.
        weight_decay: AdamW weight decay.
        warmup_fraction: share of steps spent warming up.
        seed: shuffle seed.
    """

    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-3
    temperature: float = 2.0
    alpha: float = 0.8
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self):
        self.validate()

    def validate(self) -> TokenDistillConfig:
        check_finite_numbers(self)
        checks = [("epochs", self.epochs >= 1), ("batch_size", self.batch_size >= 1),
                  ("learning_rate", self.learning_rate > 0), ("temperature", self.temperature > 0),
                  ("alpha", 0.0 <= self.alpha <= 1.0), ("weight_decay", self.weight_decay >= 0),
                  ("warmup_fraction", 0.0 <= self.warmup_fraction < 1.0)]
        for name, ok in checks:
            if not ok:
                raise UserError(f"{name} is out of range. Received: {name}={getattr(self, name)} "
                                "(epochs, batch_size >= 1; learning_rate, temperature > 0; "
                                "alpha in [0, 1]; warmup_fraction in [0, 1))")
        return self

