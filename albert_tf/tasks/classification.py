"""The text classification side of the task adapter: keras-hub `TextClassifier`s on
`TextExamples`, through `train/finetune.py`, `compress/`, `deploy/` and
`classification_metrics.py`."""

from __future__ import annotations

import numpy as np

from albert_tf.tasks.adapter import TaskAdapter, require_config

# Batch size of scoring and of the pruning stage's data (the stage's own config has none).
BATCH_SIZE = 32


class ClassificationAdapter(TaskAdapter):
    """Sentence (and sentence-pair) classification."""

    name = "text classifier"
    examples = "TextExamples"
    loader = "albert_tf.data.load_splits"
    score_name = "accuracy"

    def owns_model(self, model) -> bool:
        import keras_hub

        return isinstance(model, keras_hub.models.TextClassifier)

    def owns_examples(self, examples) -> bool:
        from albert_tf.data.examples import TextExamples

        return isinstance(examples, TextExamples)

    def class_count(self, examples) -> int:
        return len(examples.label_names)

    def class_names(self, examples) -> list[str]:
        return list(examples.label_names or [])

    def dataset(self, model, examples, batch_size, shuffle=False, seed=0):
        from albert_tf.text import make_dataset

        return make_dataset(examples, model.preprocessor, batch_size, shuffle=shuffle, seed=seed)

    def train_tokenizer(self, examples, path, vocab_size, seed):
        from albert_tf.text import train_sentencepiece

        texts = list(examples.texts) + list(examples.pairs or [])
        train_sentencepiece(texts, path, vocab_size=vocab_size, seed=seed)

    def build(self, model, num_classes, tokenizer, sequence_length):
        from albert_tf.models import build_classifier

        return build_classifier(model, num_classes=num_classes, tokenizer=tokenizer,
                                sequence_length=sequence_length)

    def save(self, model, path, class_names, overwrite=False):
        from albert_tf.models import save_classifier

        return save_classifier(model, path, class_names or None, overwrite=overwrite)

    def distillation_arrays(self, model, examples, extra_texts=()):
        from albert_tf.text import tokenize

        pairs = None if examples.pairs is None else list(examples.pairs)
        arrays = tokenize(model.preprocessor, list(examples.texts) + list(extra_texts), pairs)
        arrays["labels"] = np.concatenate([np.asarray(examples.labels, np.int32),
                                           np.full(len(extra_texts), -1, np.int32)])
        return arrays

    def distillation_lengths(self, arrays):
        return None  # sentences are short next to the teacher: one shape, one trace

    def check_distillation(self, teacher, student, config):
        pass  # any two classifiers of the same classes: soft labels need no shared tokenizer

    def default_distill_config(self):
        from albert_tf.compress.distill import DistillConfig

        return DistillConfig()

    def distillation_report(self, model, examples, logits):
        from albert_tf.classification_metrics import classification_report

        return classification_report(examples.labels, logits, self.class_names(examples) or None)

    def prune(self, model, splits, config):
        from albert_tf.compress.prune import PruneConfig, prune
        from albert_tf.text import make_dataset

        config = require_config(config, PruneConfig, self.name)
        data = None
        if splits is not None and splits.train is not None:
            data = make_dataset(splits.train, model.preprocessor, BATCH_SIZE, shuffle=True)
        return prune(model, config, data)

    def evaluate(self, model, examples) -> dict:
        from albert_tf.classification_metrics import evaluate_classifier
        from albert_tf.text import make_dataset

        dataset = make_dataset(examples, model.preprocessor, BATCH_SIZE)
        return evaluate_classifier(model, dataset, examples.labels, list(examples.label_names))

    def export(self, model, path, format, splits, options) -> dict:
        from albert_tf.deploy import export_saved_model, export_tflite
        from albert_tf.deploy.kit_bundle import write_edge_bundle

        if splits is not None and splits.train is not None:
            options.setdefault("label_names", list(splits.train.label_names))
            if format != "saved_model":  # calibration data of int8 / int16x8
                options.setdefault("representative_data", splits.train)
        writer = {"tflite": export_tflite, "saved_model": export_saved_model,
                  "edge": write_edge_bundle}[format]
        return writer(model, path, **options)
