"""`FinetuneJob`, the settings of a whole fine-tuning job (`albert-tf finetune`, a recipe's
fine-tuning stage), apart from the job itself (`albert_tf.train.job`) so that the CLI derives
its flags from it without starting TensorFlow."""

from dataclasses import dataclass, field

from albert_tf.data.spec import DataSpec
from albert_tf.train.config import FinetuneConfig, Precision, Strategy


@dataclass
class FinetuneJob:
    """A whole fine-tuning job.

    Args:
        data: `DataSpec`.
        model: named configuration (`albert-tiny`, `albert-small`, `albert-base`),
            `minilm-teacher`, a keras-hub preset name or a preset folder.
        tokenizer: SentencePiece `.model` for named configurations; None trains one on the
            training split with `vocab_size` pieces.
        vocab_size: pieces of a newly trained tokenizer.
        sequence_length: tokens per example.
        train: `FinetuneConfig`.
        precision: Keras dtype policy while training (`mixed_bfloat16` on GPUs and CPUs with
            AMX / AVX-512 BF16).
        strategy: tf.distribute strategy: `default` (one device), `mirrored` (all local GPUs,
            or all logical CPUs without one), `multi-worker` (`TF_CONFIG` describes the
            cluster) or `tpu`.
    """

    data: DataSpec = field(default_factory=DataSpec)
    model: str = "albert-small"
    tokenizer: str | None = None
    vocab_size: int = 8000
    sequence_length: int = 128
    train: FinetuneConfig = field(default_factory=FinetuneConfig)
    precision: Precision = "float32"
    strategy: Strategy = "default"
