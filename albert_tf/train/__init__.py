"""Fine-tuning: schedule, checkpoints and resume, distribution strategy, mixed precision."""

from albert_tf.train.finetune import FinetuneConfig, finetune
from albert_tf.train.strategy import PRECISIONS, STRATEGIES, make_strategy, set_precision

__all__ = ["FinetuneConfig", "finetune", "make_strategy", "set_precision", "PRECISIONS",
           "STRATEGIES"]
