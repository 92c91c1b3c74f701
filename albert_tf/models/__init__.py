"""Text classifiers: named ALBERT configurations, presets, the MiniLM teacher."""

# Registers the head-pruned ALBERT classes with Keras, so every loader can open pruned presets.
from albert_tf.models import albert_slim  # noqa: F401
from albert_tf.models.configs import ALBERT_CONFIGS
from albert_tf.models.factory import (
    MINILM_TEACHER,
    build_classifier,
    count_parameters,
    detached_preprocessor,
    load_albert_tokenizer,
    load_classifier,
    load_label_names,
    save_classifier,
)
from albert_tf.models.wordpiece import load_wordpiece_tokenizer

__all__ = ["ALBERT_CONFIGS", "MINILM_TEACHER", "build_classifier", "count_parameters",
           "detached_preprocessor", "load_albert_tokenizer", "load_classifier", "load_label_names",
           "load_wordpiece_tokenizer", "save_classifier"]
