"""Settings of the tagging stages: `TaggingDataSpec`, `TagFinetuneJob` and
`TokenDistillConfig` (the shared `DistillConfig` with tagging defaults); pruning takes
`compress.prune.PruneConfig`, like text classifiers. Kept apart from the training
code so that the CLI and the recipe schema read them without starting TensorFlow."""

from __future__ import annotations

import dataclasses

from albert_tf.compress.distill.config import DistillConfig
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
class TokenDistillConfig(DistillConfig):
    """`DistillConfig` with the tagging defaults (`albert-tf tag distill`, a tagging recipe's
    `distill:` section): the one distiller, per-token soft labels (`T² · KL` at each word's
    first sub-token) and the true tags; hidden-state and attention transfer work as for
    text classifiers (teacher and student share the tokenizer). Augmentation sources are for
    text classifiers only.

    Args:
        learning_rate: peak AdamW learning rate (taggers start from a fine-tuned or pruned
            teacher and learn quickly); the other fields are `DistillConfig`'s.
    """

    learning_rate: float = 1e-3

