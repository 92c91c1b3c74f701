"""The text classification side of the task adapter: keras-hub `TextClassifier`s on
`TextExamples`, through `train/finetune.py`, `compress/`, `deploy/` and
`classification_metrics.py`."""

from __future__ import annotations

from albert_tf.errors import UserError

# Batch size of scoring and of the pruning stage's data (the stage's own config has none).
BATCH_SIZE = 32


def require_config(config, expected: type, adapter_name: str):
    """`config` if it is an `expected`; one clear line otherwise."""
    if not isinstance(config, expected):
        raise UserError(f"a {adapter_name} takes a {expected.__name__}. "
                        f"Received: {type(config).__name__}")
    return config


class ClassificationAdapter:
    """Sentence (and sentence-pair) classification."""

    name = "text classifier"
    examples = "TextExamples"
    loader = "albert_tf.data.load_splits"

    def owns_model(self, model) -> bool:
        import keras_hub

        return isinstance(model, keras_hub.models.TextClassifier)

    def owns_examples(self, examples) -> bool:
        from albert_tf.data.examples import TextExamples

        return isinstance(examples, TextExamples)

    def class_count(self, examples) -> int:
        return len(examples.label_names)

    def finetune(self, model, splits, config, run_dir, resume, verbose) -> dict:
        from albert_tf.text import make_dataset
        from albert_tf.train.finetune import finetune

        train_ds = make_dataset(splits.train, model.preprocessor, config.batch_size,
                                shuffle=True, seed=config.seed)
        dev_ds = make_dataset(splits.dev, model.preprocessor, config.batch_size)
        return finetune(model, train_ds, dev_ds, config, run_dir,
                        train_examples=len(splits.train), resume=resume, verbose=verbose)

    def distill(self, teacher, student, splits, config, run_dir, resume, verbose):
        from albert_tf.compress.distill import DistillConfig, distill

        config = require_config(config or DistillConfig(), DistillConfig, self.name)
        return distill(teacher, student, splits, config, run_dir=run_dir, resume=resume,
                       verbose=verbose)

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
