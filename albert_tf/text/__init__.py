"""Tokenizers and input pipelines."""

from albert_tf.text.pipeline import make_dataset, tokenize
from albert_tf.text.sentencepiece_model import train_sentencepiece

__all__ = ["make_dataset", "tokenize", "train_sentencepiece"]
