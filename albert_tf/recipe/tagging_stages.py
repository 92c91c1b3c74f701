"""The token-classification stage table: teacher -> student -> prune -> distill -> export ->
report.

Each stage calls the tagging package's own functions (the ones behind `albert-tf tag ...`);
the recipe runner's loop gives them the same manifests, fingerprints, skipping and resuming
as classification stages. Models go to `<stage>/model` (keras-hub preset format with
`tag_names.json`).
"""

import logging
from dataclasses import asdict

from albert_tf.recipe.runner import (
    Pipeline,
    RunContext,
    pretrain_fingerprint,
    stage_pretrain,
    teacher_model,
)

logger = logging.getLogger(__name__)


class TaggingRunContext(RunContext):
    """`RunContext` whose `splits` are tagged sentences (`train`, `dev`, `test`)."""

    @property
    def splits(self):
        if self._splits is None:
            from albert_tf.data.tagging_splits import load_tagging_splits

            self._splits = load_tagging_splits(self.recipe.data)
        return self._splits


def load_tagger(folder):
    """A saved token classifier and its tag names."""
    from albert_tf.tagging.model import load_tag_names, load_token_classifier

    tagger = load_token_classifier(folder)
    return tagger, load_tag_names(folder, tagger.num_classes)


def stage_teacher(ctx: TaggingRunContext, resume: bool) -> dict:
    from albert_tf.tagging.config import TagFinetuneJob
    from albert_tf.train.job import run_tag_finetune_job

    t = ctx.recipe.teacher
    job = TagFinetuneJob(data=ctx.recipe.data, model=teacher_model(ctx), tokenizer=t.tokenizer,
                         vocab_size=t.vocab_size, sequence_length=t.sequence_length,
                         train=t.finetune, precision=t.precision)
    metrics = run_tag_finetune_job(job, ctx.folder("teacher"), resume=resume, verbose=2)
    return {**{k: metrics[k] for k in ("sentences", "tag_names", "parameters")},
            "best_epoch": metrics["training"]["best_epoch"],
            "dev_token_accuracy": metrics["dev"]["token_accuracy"],
            "test_token_accuracy": metrics["test"]["token_accuracy"],
            "majority_tag_accuracy": metrics["test"]["majority_tag_accuracy"]}


def stage_student(ctx: TaggingRunContext, resume: bool) -> dict:
    from albert_tf.compress.distill import build_student
    from albert_tf.models import count_parameters
    from albert_tf.tagging.model import save_token_classifier

    teacher, names = load_tagger(ctx.model_dir("teacher"))
    student = build_student(teacher, ctx.recipe.student, texts=ctx.splits.train.words)
    save_token_classifier(student, ctx.model_dir("student"), names, overwrite=True)
    return {"init": asdict(ctx.recipe.student), **count_parameters(student)}


def stage_prune(ctx: TaggingRunContext, resume: bool) -> dict:
    from albert_tf.tagging.model import save_token_classifier
    from albert_tf.tagging.prune import prune_tagger
    from albert_tf.text.token_pipeline import evaluate_tagger

    config = ctx.recipe.prune.config
    tagger, names = load_tagger(ctx.latest_model_dir("prune"))
    train = ctx.splits.train if config.fine_tune_steps else None
    pruned, metrics = prune_tagger(tagger, config, train)
    # Before distillation: how much the cut alone cost.
    metrics["dev_token_accuracy"] = evaluate_tagger(pruned, ctx.splits.dev)["token_accuracy"]
    save_token_classifier(pruned, ctx.model_dir("prune"), names, overwrite=True)
    return metrics


def stage_distill(ctx: TaggingRunContext, resume: bool) -> dict:
    from albert_tf.compress.distill import distill
    from albert_tf.data.splits import Splits
    from albert_tf.tagging.model import save_token_classifier

    teacher, _ = load_tagger(ctx.model_dir("teacher"))
    student, names = load_tagger(ctx.latest_model_dir("distill"))
    # The student is rebuilt from its saved parent each time; a resumed stage then puts the
    # last finished epoch's weights and optimizer state back from the checkpoints.
    student, metrics = distill(teacher, student, Splits(ctx.splits.train, ctx.splits.dev, None),
                               ctx.recipe.distill, run_dir=ctx.folder("distill") / "work",
                               resume=resume, verbose=2)
    save_token_classifier(student, ctx.model_dir("distill"), names, overwrite=True)
    return metrics


def stage_export(ctx: TaggingRunContext, resume: bool) -> dict:
    from albert_tf.tagging.export import export_tagger_tflite, export_word_tagger

    section = ctx.recipe.export
    folder = ctx.folder("export")
    model, names = load_tagger(ctx.latest_model_dir("export"))
    artifacts = {}
    for mode in section.tflite_modes:
        logger.info("export: tagger TFLite %s", mode)
        artifacts[mode] = export_tagger_tflite(model, folder / f"model-{mode}.tflite", mode,
                                               tag_names=names)
    if section.teacher_baseline:
        teacher, _ = load_tagger(ctx.model_dir("teacher"))
        artifacts["teacher-float32"] = export_tagger_tflite(
            teacher, folder / "teacher-float32.tflite", "float32", tag_names=names)
    if section.edge_bundle:
        from albert_tf.deploy.kit_bundle import write_tagging_bundle

        logger.info("export: edge bundle (export/edge/tag.py)")
        shipped = ctx.recipe.gates.artifact
        artifacts["edge_bundle"] = write_tagging_bundle(
            model, folder / "edge-bundle", tflite_path=folder / f"model-{shipped}.tflite",
            tag_names=names, overwrite=True, allow_mismatch=section.allow_mismatch)
    if section.saved_model:
        logger.info("export: raw-text SavedModel (word tags)")
        artifacts["saved_model"] = export_word_tagger(
            model, folder / "serving" / section.model_name / str(section.version), names)
    return {"artifacts": artifacts}


def stage_report(ctx: TaggingRunContext, resume: bool) -> dict:
    from albert_tf.recipe.tagging_report import build_tagging_report

    return build_tagging_report(ctx)


def _sections(recipe) -> dict:
    return {
        "pretrain": pretrain_fingerprint(recipe),
        "teacher": {"data": recipe.data, "teacher": recipe.teacher},
        "student": recipe.student,
        "prune": recipe.prune,
        "distill": recipe.distill,
        "export": recipe.export,
        "report": {"bench": recipe.bench, "gates": recipe.gates},
    }


PIPELINE = Pipeline(
    stages=[("pretrain", stage_pretrain), ("teacher", stage_teacher),
            ("student", stage_student), ("prune", stage_prune), ("distill", stage_distill),
            ("export", stage_export), ("report", stage_report)],
    sections=_sections,
    context=TaggingRunContext,
)
