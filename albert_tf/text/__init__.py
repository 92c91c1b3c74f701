"""Tokenizers and input pipelines."""

from albert_tf.text.pipeline import make_dataset, raw_inputs, tokenize
from albert_tf.text.sentencepiece_model import train_sentencepiece

__all__ = ["make_dataset", "raw_inputs", "tokenize", "train_sentencepiece"]
