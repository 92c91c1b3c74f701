"""The token classification side of the task adapter: albert_tf `TokenClassifier`s on
`TaggedSentences`. Fine-tuning and distillation are the shared ones (`train/finetune.py`,
`compress/distill/distiller.py`) on the batches of `text/token_pipeline.py`; pruning is the one
prune stage (`compress/prune`), export the one TFLite / SavedModel exporter (`deploy/`, with
the tagger's signatures in `deploy/tagging_graph.py`) and the edge kit's tagging bundle."""

from __future__ import annotations

import numpy as np

from albert_tf.errors import UserError
from albert_tf.tasks.adapter import TaskAdapter


class TokenClassificationAdapter(TaskAdapter):
    """Tagging words (POS, NER): one tag per word, read at its first sub-token."""

    task = "token-classification"
    name = "token classifier"
    examples = "TaggedSentences"
    loader = "albert_tf.tagging.load_tagging_splits"
    accuracy_key = "token_accuracy"
    # Report columns beyond accuracy: (results key, header, format); speed-ups: (key, header).
    report_metrics = (("entity_f1", "entity F1", "{:.4f}"), ("ece", "ECE", "{:.3f}"))
    report_speedups = (("speedup", "speed-up"),)

    def owns_model(self, model) -> bool:
        from albert_tf.tagging.model import TokenClassifier

        return isinstance(model, TokenClassifier)

    def owns_examples(self, examples) -> bool:
        from albert_tf.tagging.examples import TaggedSentences

        return isinstance(examples, TaggedSentences)

    def class_count(self, examples) -> int:
        return len(examples.tag_names)

    def load_splits(self, spec):
        from albert_tf.data.tagging_splits import load_tagging_splits

        return load_tagging_splits(spec)

    def texts(self, examples) -> list:
        return examples.words

    def load(self, folder) -> tuple:
        """A saved token classifier and its tag names."""
        from albert_tf.tagging.model import load_tag_names, load_token_classifier

        tagger = load_token_classifier(folder)
        return tagger, load_tag_names(folder, tagger.num_classes)

    def finetune_teacher(self, data, model, teacher, run_dir, resume) -> dict:
        """Build and fine-tune a recipe's teacher tagger (`TeacherSection`) on `data`; the
        metrics a run keeps."""
        from albert_tf.tagging.config import TagFinetuneJob
        from albert_tf.train.job import run_tag_finetune_job

        job = TagFinetuneJob(data=data, model=model, tokenizer=teacher.tokenizer,
                             vocab_size=teacher.vocab_size,
                             sequence_length=teacher.sequence_length, train=teacher.finetune,
                             precision=teacher.precision)
        metrics = run_tag_finetune_job(job, run_dir, resume=resume, verbose=2)
        return {**{k: metrics[k] for k in ("sentences", "tag_names", "parameters")},
                "best_epoch": metrics["training"]["best_epoch"],
                "dev_token_accuracy": metrics["dev"]["token_accuracy"],
                "test_token_accuracy": metrics["test"]["token_accuracy"],
                "majority_tag_accuracy": metrics["test"]["majority_tag_accuracy"]}

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

    def with_backbone(self, model, backbone):
        """A tagger like `model` on `backbone` (e.g. structurally pruned), head kept."""
        from albert_tf.tagging.model import token_classifier_for

        tagger = token_classifier_for(backbone, model.num_classes, model.preprocessor,
                                      model.dropout)
        tagger.output_dense.set_weights(model.output_dense.get_weights())
        return tagger

    def check_tflite(self, config) -> None:
        """Token ids in, without calibration (see `tagging_graph.TAGGER_TFLITE_MODES`)."""
        from albert_tf.deploy.tagging_graph import TAGGER_TFLITE_MODES

        if config.mode not in TAGGER_TFLITE_MODES:
            raise UserError(f"unknown tagger TFLite mode {config.mode!r}: expected one of "
                            f"{', '.join(TAGGER_TFLITE_MODES)}")
        if config.raw_text:
            raise UserError("tagger TFLite files take token ids (raw_text=False): raw "
                            "sentences are tagged by the SavedModel or the edge bundle")

    def tflite_parity(self, model, content, mode, texts) -> dict:
        """Word-level tags and probabilities against the Keras tagger."""
        from albert_tf.deploy.tagging_graph import tagger_tflite_parity

        return tagger_tflite_parity(model, content, mode, texts)

    def serving_graph(self, model, network, label_names, text_pairs):
        """Raw sentences in, word-level tags out (`tagging_graph`)."""
        from albert_tf.deploy.tagging_graph import tagger_serving_graph

        if text_pairs:
            raise UserError("a token classifier tags one sentence at a time: no text_pairs")
        return tagger_serving_graph(model, network, label_names)

    def evaluate(self, model, examples) -> dict:
        from albert_tf.text.token_pipeline import evaluate_tagger

        return evaluate_tagger(model, examples)

    def export(self, model, path, format, splits, options) -> dict:
        from albert_tf.deploy import export_saved_model, export_tflite
        from albert_tf.deploy.kit_bundle import write_tagging_bundle

        names = options.pop("label_names", None)
        if names is None:
            names = (list(splits.train.tag_names) if splits is not None and splits.train
                     is not None else [str(i) for i in range(model.num_classes)])
        if format == "edge":
            return write_tagging_bundle(model, path, tag_names=names, **options)
        writer = {"tflite": export_tflite, "saved_model": export_saved_model}[format]
        return writer(model, path, label_names=names, **options)

    def export_serving(self, model, serving_dir, model_name, version, label_names, splits,
                       base_path_prefix, allow_mismatch) -> dict:
        """A raw-text SavedModel returning word tags at `serving_dir/<model_name>/<version>`
        (TF Serving's layout, warm-up records, `models.config` naming `base_path_prefix`)."""
        from albert_tf.deploy import export_saved_model

        return export_saved_model(
            model, serving_dir, model_name, version, label_names=label_names, overwrite=True,
            base_path_prefix=base_path_prefix, allow_mismatch=allow_mismatch)

    def measure_run(self, run_dir, model_dir, work_dir, train, test, bench, seed, title) -> dict:
        """Measure a recipe run folder's artifacts (`albert_tf.bench.tagging_measure`) on the
        first `bench.eval_limit` test sentences, baselines trained on `train`: the Keras
        teacher, the export folder's `.tflite` files and its raw-text SavedModel."""
        from pathlib import Path

        from albert_tf.bench.run_folder import MODE_ORDER
        from albert_tf.bench.tagging_measure import measure_taggers
        from albert_tf.tagging.examples import limit

        export = Path(run_dir) / "export"
        teacher_dir = Path(run_dir) / "teacher" / "model"
        teacher, names = self.load(teacher_dir)
        model, _ = self.load(model_dir)
        files = {}
        if (export / "teacher-float32.tflite").is_file():
            files["teacher"] = export / "teacher-float32.tflite"
        for mode in MODE_ORDER:
            if (export / f"model-{mode}.tflite").is_file():
                files[mode] = export / f"model-{mode}.tflite"
        saved = sorted(p.parent for p in export.glob("serving/*/*/saved_model.pb"))
        return measure_taggers(teacher, teacher_dir, model, files, saved[0] if saved else None,
                               names, train, limit(test, bench.eval_limit),
                               list(bench.threads), bench.latency_runs, title)
