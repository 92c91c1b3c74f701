"""The text classification side of the task adapter: keras-hub `TextClassifier`s on
`TextExamples`, through `train/finetune.py`, `compress/`, `deploy/` and
`classification_metrics.py`."""

from __future__ import annotations

import numpy as np

from albert_tf.tasks.adapter import TaskAdapter

# Batch size of scoring (evaluate).
BATCH_SIZE = 32


class ClassificationAdapter(TaskAdapter):
    """Sentence (and sentence-pair) classification."""

    task = "classification"
    name = "text classifier"
    examples = "TextExamples"
    loader = "albert_tf.data.load_splits"
    accuracy_key = "accuracy"
    # Report columns beyond accuracy: (results key, header, format); speed-ups: (key, header).
    report_metrics = (("ece", "ECE", "{:.3f}"),)
    report_speedups = (("speedup_vs_teacher_saved_model", "speed-up vs teacher SavedModel"),
                       ("speedup_vs_teacher_tflite", "speed-up vs teacher TFLite"))

    def owns_model(self, model) -> bool:
        import keras_hub

        return isinstance(model, keras_hub.models.TextClassifier)

    def owns_examples(self, examples) -> bool:
        from albert_tf.data.examples import TextExamples

        return isinstance(examples, TextExamples)

    def class_count(self, examples) -> int:
        return len(examples.label_names)

    def load_splits(self, spec):
        from albert_tf.data.spec import load_splits

        return load_splits(spec)

    def texts(self, examples) -> list:
        return examples.texts

    def load(self, folder) -> tuple:
        """A saved classifier and its class names."""
        from albert_tf.models import load_classifier, load_label_names

        model = load_classifier(folder)
        return model, load_label_names(folder, model.num_classes)

    def finetune_teacher(self, data, model, teacher, run_dir, resume) -> dict:
        """Build and fine-tune a recipe's teacher (`TeacherSection`) on `data`; the metrics a
        run keeps."""
        from albert_tf.train.job import FinetuneJob, run_finetune_job

        job = FinetuneJob(data=data, model=model, tokenizer=teacher.tokenizer,
                          vocab_size=teacher.vocab_size, sequence_length=teacher.sequence_length,
                          train=teacher.finetune, precision=teacher.precision,
                          strategy=teacher.strategy)
        metrics = run_finetune_job(job, run_dir, resume=resume)
        return {k: metrics[k] for k in ("parameters", "parameters_without_token_embedding",
                                        "train_examples_per_second", "dev", "test")}

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

    def with_backbone(self, model, backbone):
        """A classifier like `model` on `backbone` (e.g. structurally pruned), head kept."""
        import keras_hub

        from albert_tf.models.albert_slim import AlbertSlimBackbone, AlbertSlimTextClassifier

        classifier_cls = (AlbertSlimTextClassifier if isinstance(backbone, AlbertSlimBackbone)
                          else keras_hub.models.AlbertTextClassifier)
        classifier = classifier_cls(
            backbone=backbone, num_classes=model.num_classes, preprocessor=model.preprocessor,
            activation=model.activation, dropout=model.dropout)
        classifier.output_dense.set_weights(model.output_dense.get_weights())
        return classifier

    def check_tflite(self, config) -> None:
        """Every mode of `TFLiteExportConfig` (checked by its `validate`)."""

    def tflite_parity(self, model, content, mode, texts) -> dict:
        """Class probabilities (and in-graph token ids) against the Keras classifier."""
        from albert_tf.deploy.parity import tflite_parity

        return tflite_parity(model, content, mode, texts=texts)

    def serving_graph(self, model, network, label_names, text_pairs):
        """Raw text, packed tokens and `encode` signatures (`saved_model_export`)."""
        from albert_tf.deploy.saved_model_export import classifier_serving_graph

        return classifier_serving_graph(model, network, label_names, text_pairs)

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

    def export_serving(self, model, serving_dir, model_name, version, label_names, splits,
                       base_path_prefix, allow_mismatch) -> dict:
        """A TF Serving SavedModel at `serving_dir/<model_name>/<version>` (raw-text and token
        signatures, warm-up records, `models.config` naming `base_path_prefix`)."""
        from albert_tf.deploy import export_saved_model

        return export_saved_model(
            model, serving_dir, model_name, version, label_names=label_names,
            text_pairs=splits.train.pairs is not None, overwrite=True,
            base_path_prefix=base_path_prefix, allow_mismatch=allow_mismatch)

    def measure_run(self, run_dir, model_dir, work_dir, train, test, bench, seed, title) -> dict:
        """Measure a recipe run folder's artifacts (`albert_tf.bench.run_bench`) on `test`
        (a seeded subset of `bench.eval_limit` examples), baselines trained on `train`."""
        from albert_tf.bench import BenchConfig, run_bench
        from albert_tf.bench.run_folder import run_artifacts

        if bench.eval_limit is not None and bench.eval_limit < len(test):
            from albert_tf.data import subset

            test = subset(test, bench.eval_limit, seed=seed)
        artifacts = run_artifacts(run_dir, work_dir, keras=bench.keras,
                                  teacher_reference=bench.teacher_saved_model)
        config = BenchConfig(threads=list(bench.threads), batch_sizes=list(bench.batch_sizes),
                             sequence_lengths=bench.sequence_lengths, runs=bench.latency_runs,
                             warmup=bench.warmup, memory=bench.memory,
                             real_length_examples=bench.real_length_examples, onnx=bench.onnx)
        return run_bench(artifacts, test, config, work_dir, title=title, train=train)
