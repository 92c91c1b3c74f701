"""The token classification side of the task adapter: albert_tf `TokenClassifier`s on
`TaggedSentences`. Fine-tuning and distillation are the shared ones (`train/finetune.py`,
`compress/distill/distiller.py`) on the batches of `text/token_pipeline.py`; pruning and
export go through `tagging/prune.py`, `tagging/export.py` and the edge kit's tagging bundle."""

from __future__ import annotations

import dataclasses

import numpy as np

from albert_tf.errors import UserError
from albert_tf.tasks.adapter import TaskAdapter, require_config


class TokenClassificationAdapter(TaskAdapter):
    """Tagging words (POS, NER): one tag per word, read at its first sub-token."""

    name = "token classifier"
    examples = "TaggedSentences"
    loader = "albert_tf.tagging.load_tagging_splits"
    score_name = "token_accuracy"

    def owns_model(self, model) -> bool:
        from albert_tf.tagging.model import TokenClassifier

        return isinstance(model, TokenClassifier)

    def owns_examples(self, examples) -> bool:
        from albert_tf.tagging.examples import TaggedSentences

        return isinstance(examples, TaggedSentences)

    def class_count(self, examples) -> int:
        return len(examples.tag_names)

    def class_names(self, examples) -> list[str]:
        return list(examples.tag_names)

    def dataset(self, model, examples, batch_size, shuffle=False, seed=0):
        from albert_tf.text.token_pipeline import make_tagging_dataset

        return make_tagging_dataset(examples, model.preprocessor, batch_size, shuffle=shuffle,
                                    seed=seed)

    def train_tokenizer(self, examples, path, vocab_size, seed):
        from albert_tf.text.sentencepiece_model import (
            train_character_sentencepiece,
            train_sentencepiece,
            words_are_characters,
        )

        if words_are_characters(examples.words):
            # Character-level data (Chinese NER): one piece per character, no `▁` before each.
            train_character_sentencepiece(examples.words, path, vocab_size=vocab_size, seed=seed)
        else:
            train_sentencepiece([" ".join(words) for words in examples.words], path,
                                vocab_size=vocab_size, seed=seed)

    def build(self, model, num_classes, tokenizer, sequence_length):
        from albert_tf.tagging.model import build_token_classifier

        return build_token_classifier(model, num_classes, tokenizer=tokenizer,
                                      sequence_length=sequence_length)

    def save(self, model, path, class_names, overwrite=False):
        from albert_tf.tagging.model import save_token_classifier

        return save_token_classifier(model, path, class_names, overwrite=overwrite)

    def distillation_arrays(self, model, examples, extra_texts=()):
        from albert_tf.text.token_pipeline import align_arrays

        if len(extra_texts):
            raise UserError("a token classifier distils on tagged sentences only: drop the "
                            "unlabelled texts and augment_sources")
        arrays = align_arrays(examples, model.preprocessor)
        # Each word's first sub-token scores 1, whatever the fine-tuning weights' scale.
        arrays["label_weights"] = (arrays["label_weights"] > 0).astype(np.float32)
        return arrays

    def distillation_lengths(self, arrays):
        # Padding is most of a tagging batch: batch similar lengths, trim to the longest.
        return arrays["padding_mask"].sum(axis=1)

    def check_distillation(self, teacher, student, config):
        if config.augment_sources:
            raise UserError("augmentation adds unlabelled sentences for text classifiers; a "
                            "token classifier distils on its tagged sentences: drop "
                            f"augment_sources. Received: {list(config.augment_sources)}")
        t, s = teacher.preprocessor, student.preprocessor
        if t is None or s is None:
            raise UserError("teacher and student need their preprocessors (saved taggers keep "
                            "them)")
        if t.tokenizer.get_vocabulary() != s.tokenizer.get_vocabulary():
            raise UserError("per-token distillation needs the teacher's tokenizer in the "
                            "student (sub-token positions must line up): build the student "
                            "with the teacher's tokenizer, or prune the teacher into the student")
        if t.sequence_length != s.sequence_length:
            raise UserError(f"teacher and student sequence lengths differ "
                            f"({t.sequence_length} vs {s.sequence_length}): they must match")

    def default_distill_config(self):
        from albert_tf.tagging.config import TokenDistillConfig

        return TokenDistillConfig()

    def distillation_report(self, model, examples, logits):
        from albert_tf.text.token_pipeline import evaluate_tagger

        return evaluate_tagger(model, examples)  # word level, like `evaluate`

    def prune(self, model, splits, config):
        from albert_tf.compress.prune import PruneConfig
        from albert_tf.tagging.config import TagPruneConfig
        from albert_tf.tagging.prune import prune_tagger

        if isinstance(config, PruneConfig):  # the same fields, and a batch size by default
            config = TagPruneConfig(**dataclasses.asdict(config) | {
                "structured": config.structured, "unstructured": config.unstructured})
        config = require_config(config, TagPruneConfig, self.name)
        return prune_tagger(model, config, None if splits is None else splits.train)

    def evaluate(self, model, examples) -> dict:
        from albert_tf.text.token_pipeline import evaluate_tagger

        return evaluate_tagger(model, examples)

    def export(self, model, path, format, splits, options) -> dict:
        from albert_tf.deploy.kit_bundle import write_tagging_bundle
        from albert_tf.tagging.export import export_tagger_tflite, export_word_tagger

        names = options.pop("label_names", None)
        if names is None:
            names = (list(splits.train.tag_names) if splits is not None and splits.train
                     is not None else [str(i) for i in range(model.num_classes)])
        if format == "tflite":
            return export_tagger_tflite(model, path, tag_names=names, **options)
        if format == "saved_model":
            return export_word_tagger(model, path, names, **options)
        return write_tagging_bundle(model, path, tag_names=names, **options)
