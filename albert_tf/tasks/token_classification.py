"""The token classification side of the task adapter: albert_tf `TokenClassifier`s on
`TaggedSentences`, through the tagging package (`tagging/train.py`, `distill.py`,
`pipeline.py`), the one prune stage (`compress/prune`), the one TFLite / SavedModel exporter
(`deploy/`, with the tagger's signatures in `deploy/tagging_graph.py`) and the edge kit's
tagging bundle."""

from __future__ import annotations

from albert_tf.tasks.classification import prune_with_adapter, require_config


class TokenClassificationAdapter:
    """Tagging words (POS, NER): one tag per word, read at its first sub-token."""

    name = "token classifier"
    examples = "TaggedSentences"
    loader = "albert_tf.tagging.load_tagging_splits"

    def owns_model(self, model) -> bool:
        from albert_tf.tagging.model import TokenClassifier

        return isinstance(model, TokenClassifier)

    def owns_examples(self, examples) -> bool:
        from albert_tf.tagging.examples import TaggedSentences

        return isinstance(examples, TaggedSentences)

    def class_count(self, examples) -> int:
        return len(examples.tag_names)

    def finetune(self, model, splits, config, run_dir, resume, verbose) -> dict:
        from albert_tf.tagging.train import finetune_tagger

        return finetune_tagger(model, splits.train, splits.dev, config, run_dir, resume=resume,
                               verbose=verbose)

    def distill(self, teacher, student, splits, config, run_dir, resume, verbose):
        from albert_tf.tagging.config import TokenDistillConfig
        from albert_tf.tagging.distill import distill_tagger

        config = require_config(config or TokenDistillConfig(), TokenDistillConfig, self.name)
        return distill_tagger(teacher, student, splits.train, splits.dev, config,
                              run_dir=run_dir, resume=resume, verbose=verbose)

    def prune(self, model, splits, config):
        return prune_with_adapter(self, model, splits, config)

    def training_batches(self, model, examples, batch_size, seed=0):
        """Shuffled, aligned `(x, token labels, weights)` batches: only each word's first
        sub-token is weighted (fine-tuning, Taylor importance)."""
        from albert_tf.tagging.pipeline import make_tagging_dataset

        return make_tagging_dataset(examples, model.preprocessor, batch_size, shuffle=True,
                                    seed=seed)

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
        from albert_tf.errors import UserError

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
        from albert_tf.errors import UserError

        if text_pairs:
            raise UserError("a token classifier tags one sentence at a time: no text_pairs")
        return tagger_serving_graph(model, network, label_names)

    def evaluate(self, model, examples) -> dict:
        from albert_tf.tagging.pipeline import evaluate_tagger

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
