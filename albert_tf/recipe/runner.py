"""Run a recipe: stages in order, each into its own folder of the run, with a manifest.

    RUN_DIR/
      recipe.json            the validated recipe
      teacher/  student/  distill/  prune/  export/  report/
        manifest.json        written last: fingerprint, configuration, package versions,
                             outputs, metrics

A stage's fingerprint hashes its configuration and the manifests of the stages it reads. A
re-run skips every stage whose manifest carries the same fingerprint; a stage whose
fingerprint changed runs again (and so, through their fingerprints, do the stages after it).
A stage folder without a manifest is an interrupted stage: it runs again with `resume`, so
fine-tuning and distillation continue after their last finished epoch.

Each task has its own stage table (`Pipeline`, looked up in `PIPELINES` by the recipe's
`task`); the loop above is the same for all of them. Token classification runs
teacher -> prune -> distill -> export -> report (`albert_tf.recipe.tagging_stages`).
"""

import hashlib
import importlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from albert_tf.errors import UserError
from albert_tf.json_files import write_json
from albert_tf.recipe.schema import Recipe

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PACKAGES = ("albert_tf", "tensorflow", "keras", "keras-hub", "tensorflow-text",
            "ai-edge-litert", "sentencepiece", "numpy")


def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class RunContext:
    """What the stages share: the recipe, the run folder, the data (loaded once).

    Args:
        recipe: the validated recipe.
        run_dir: the run folder.
        stage_order: the pipeline's stage names in order (default: classification's).
    """

    def __init__(self, recipe: Recipe, run_dir: Path, stage_order=None):
        self.recipe = recipe
        self.run_dir = run_dir
        self.stage_order = list(stage_order or [s for s, _ in STAGES])
        self._splits = None

    @property
    def splits(self):
        if self._splits is None:
            from albert_tf.data.spec import load_splits

            self._splits = load_splits(self.recipe.data)
        return self._splits

    def folder(self, stage: str) -> Path:
        return self.run_dir / stage

    def model_dir(self, stage: str) -> Path:
        return self.folder(stage) / "model"

    def latest_model_dir(self, before: str) -> Path:
        """The model the stages before `before` ended with."""
        order = self.stage_order
        for stage in reversed(order[:order.index(before)]):
            if (self.model_dir(stage) / "task.json").is_file():
                return self.model_dir(stage)
        raise UserError(f"no model to hand to the {before} stage")


def _load(folder: Path):
    from albert_tf.models import load_classifier

    return load_classifier(folder)


def _label_names(ctx: RunContext):
    return list(ctx.splits.train.label_names)


# --- stages: each returns its metrics; models go to <stage>/model ------------------------------

def stage_pretrain(ctx, resume: bool) -> dict:
    """Pre-train the teacher's model on the section's corpus (both tasks' pipelines)."""
    from albert_tf.pretrain.job import run_pretrain_job
    from albert_tf.recipe.schema import pretrain_job

    recipe = ctx.recipe
    job = pretrain_job(recipe.pretrain, recipe.teacher.model, recipe.data.source,
                       recipe.data.seed)
    metrics = run_pretrain_job(job, ctx.folder("pretrain"), resume=resume, verbose=2)
    return {k: metrics[k] for k in ("corpus", "parameters", "steps", "train_seconds_all",
                                    "held_out_mlm_accuracy", "held_out_sop_accuracy")}


def teacher_model(ctx) -> str:
    """What the teacher stage fine-tunes: the pre-trained model when the recipe pre-trains."""
    return str(ctx.model_dir("pretrain")) if ctx.recipe.pretrain is not None \
        else ctx.recipe.teacher.model


def stage_teacher(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.train.job import FinetuneJob, run_finetune_job

    t = ctx.recipe.teacher
    job = FinetuneJob(data=ctx.recipe.data, model=teacher_model(ctx), tokenizer=t.tokenizer,
                      vocab_size=t.vocab_size, sequence_length=t.sequence_length,
                      train=t.finetune, precision=t.precision, strategy=t.strategy)
    metrics = run_finetune_job(job, ctx.folder("teacher"), resume=resume)
    return {k: metrics[k] for k in ("parameters", "parameters_without_token_embedding",
                                    "train_examples_per_second", "dev", "test")}


def stage_student(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.compress.distill import build_student
    from albert_tf.models import count_parameters, save_classifier

    teacher = _load(ctx.model_dir("teacher"))
    student = build_student(teacher, ctx.recipe.student, texts=ctx.splits.train.texts)
    save_classifier(student, ctx.model_dir("student"), _label_names(ctx), overwrite=True)
    return {"init": asdict(ctx.recipe.student), **count_parameters(student)}


def stage_distill(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.compress.distill import distill
    from albert_tf.compress.distill.augment import requested_unlabelled_texts
    from albert_tf.models import save_classifier

    teacher = _load(ctx.model_dir("teacher"))
    student = _load(ctx.model_dir("student"))
    student, metrics = distill(teacher, student, ctx.splits, ctx.recipe.distill,
                               run_dir=ctx.folder("distill") / "work", resume=resume,
                               unlabelled_texts=requested_unlabelled_texts(ctx.recipe.distill,
                                                                           ctx.recipe.data))
    save_classifier(student, ctx.model_dir("distill"), _label_names(ctx), overwrite=True)
    return metrics


def stage_prune(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.compress.distill import distill
    from albert_tf.compress.distill.augment import requested_unlabelled_texts
    from albert_tf.compress.prune import prune
    from albert_tf.models import save_classifier
    from albert_tf.text import make_dataset

    section = ctx.recipe.prune
    parent_dir = ctx.latest_model_dir("prune")
    model = _load(parent_dir)
    data = make_dataset(ctx.splits.train, model.preprocessor, 32, shuffle=True).repeat()
    pruned, metrics = prune(model, section.config, data=data)
    if section.recover is not None:
        # Recover by distillation from the unpruned model, the usual pruning recipe.
        parent = _load(parent_dir)
        pruned, metrics["recovery"] = distill(
            parent, pruned, ctx.splits, section.recover, run_dir=ctx.folder("prune") / "recover",
            resume=resume,
            unlabelled_texts=requested_unlabelled_texts(section.recover, ctx.recipe.data))
    save_classifier(pruned, ctx.model_dir("prune"), _label_names(ctx), overwrite=True)
    return metrics


def stage_export(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.deploy import export_saved_model, export_tflite

    section = ctx.recipe.export
    folder = ctx.folder("export")
    model = _load(ctx.latest_model_dir("export"))
    names = _label_names(ctx)
    calibration = ctx.splits.train.select(range(min(section.calibration_examples,
                                                    len(ctx.splits.train))))
    artifacts = {}
    allow = section.allow_mismatch
    for mode in section.tflite_modes:
        logger.info("export: TFLite %s", mode)
        artifacts[mode] = export_tflite(model, folder / f"model-{mode}.tflite", mode,
                                        representative_data=calibration, label_names=names,
                                        allow_mismatch=allow)
    if section.raw_text_tflite:
        artifacts["raw-text-float32"] = export_tflite(
            model, folder / "model-raw-text-float32.tflite", "float32", raw_text=True,
            label_names=names, allow_mismatch=allow)
    if section.teacher_baseline:
        teacher = _load(ctx.model_dir("teacher"))
        artifacts["teacher-float32"] = export_tflite(
            teacher, folder / "teacher-float32.tflite", "float32", label_names=names,
            allow_mismatch=allow)
    if section.edge_bundle:
        from albert_tf.deploy.kit_bundle import write_edge_bundle

        shipped = ctx.recipe.gates.artifact
        artifacts["edge_bundle"] = write_edge_bundle(
            model, folder / "edge-bundle", tflite_path=folder / f"model-{shipped}.tflite",
            label_names=names, overwrite=True, allow_mismatch=allow)
    if section.saved_model:
        artifacts["saved_model"] = export_saved_model(
            model, folder / "serving", section.model_name, section.version, label_names=names,
            text_pairs=ctx.splits.train.pairs is not None, overwrite=True,
            base_path_prefix=section.serving_base_path, allow_mismatch=allow)
    return {"artifacts": artifacts}


def stage_report(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.recipe.report import build_report

    return build_report(ctx)


STAGES = [
    ("pretrain", stage_pretrain),
    ("teacher", stage_teacher),
    ("student", stage_student),
    ("distill", stage_distill),
    ("prune", stage_prune),
    ("export", stage_export),
    ("report", stage_report),
]


def pretrain_fingerprint(recipe) -> dict | None:
    """What the pretrain stage depends on: its section, the model it starts from and the
    data whose held-out texts it leaves out (None: no pretrain stage)."""
    if recipe.pretrain is None:
        return None
    return {"pretrain": recipe.pretrain, "model": recipe.teacher.model,
            "data_source": recipe.data.source, "seed": recipe.data.seed}


def _classification_sections(recipe: Recipe) -> dict:
    return {
        "pretrain": pretrain_fingerprint(recipe),
        "teacher": {"data": recipe.data, "teacher": recipe.teacher},
        "student": recipe.student,
        "distill": recipe.distill,
        "prune": recipe.prune,
        "export": recipe.export,
        "report": {"bench": recipe.bench, "gates": recipe.gates},
    }


@dataclass(frozen=True)
class Pipeline:
    """One task's stage table: the stages in order, what each stage's fingerprint covers,
    and the run context the stages share.

    Args:
        stages: `(name, function)` pairs; a function takes `(ctx, resume)` and returns its
            metrics.
        sections: `recipe -> {stage name: configuration}`; a stage whose configuration is
            None does not run.
        context: the `RunContext` class (it loads the task's data).
    """

    stages: list
    sections: Callable
    context: type = RunContext


CLASSIFICATION = Pipeline(STAGES, _classification_sections)
# task -> "module:attribute" of its Pipeline, imported when a recipe of that task runs.
PIPELINES = {
    "classification": "albert_tf.recipe.runner:CLASSIFICATION",
    "token-classification": "albert_tf.recipe.tagging_stages:PIPELINE",
}


def pipeline_for(recipe) -> Pipeline:
    """The stage table of the recipe's task."""
    module, _, attribute = PIPELINES[getattr(recipe, "task", "classification")].partition(":")
    return getattr(importlib.import_module(module), attribute)


def _stage_config(recipe, stage: str, pipeline: Pipeline | None = None):
    section = (pipeline or pipeline_for(recipe)).sections(recipe)[stage]
    return None if section is None else json.loads(json.dumps(
        section if isinstance(section, dict) else asdict(section), default=lambda o: asdict(o)))


@dataclass(frozen=True)
class PlannedStage:
    """What a run would do with one stage, given the run folder as it is now.

    `action` is one of: "skip" (a manifest with this fingerprint exists), "rerun" (a manifest
    exists but the settings or an upstream stage changed), "resume" (an interrupted stage:
    a folder without a manifest) or "run" (no folder yet).
    """

    name: str
    function: Callable
    config: dict
    fingerprint: str
    action: str


def data_file_digests(recipe) -> dict:
    """sha256 of each local data file the recipe reads (`data.source`, `+`-joined parts), so
    a file edited in place changes every stage's fingerprint. Named sources are pinned by
    their registry checksum and tfds sources by name; they add nothing here, so the
    fingerprints of runs on them stay as they were."""
    from albert_tf.data.cache import sha256_of_file

    source = str(getattr(getattr(recipe, "data", None), "source", "") or "")
    digests = {}
    for part in filter(None, source.split("+")):
        path = Path(part).expanduser()
        if path.is_file():
            digests[part] = sha256_of_file(path)
    return digests


def plan_recipe(recipe, run_dir: str | os.PathLike) -> list[PlannedStage]:
    """The stages `run_recipe(recipe, run_dir)` would go through, and what it would do with
    each. Reads only manifests (and hashes local data files): nothing runs and nothing is
    written."""
    run_dir = Path(run_dir)
    pipeline = pipeline_for(recipe)
    digests = data_file_digests(recipe)
    upstream = [_hash({"data_files": digests})] if digests else []
    plan = []
    for name, function in pipeline.stages:
        config = _stage_config(recipe, name, pipeline)
        if config is None:
            continue
        fingerprint = _hash({"config": config, "upstream": upstream})
        folder = run_dir / name
        manifest_path = folder / MANIFEST
        if manifest_path.is_file():
            done = json.loads(manifest_path.read_text()).get("fingerprint") == fingerprint
            action = "skip" if done else "rerun"
        else:
            action = "resume" if folder.is_dir() else "run"
        plan.append(PlannedStage(name, function, config, fingerprint, action))
        upstream.append(fingerprint)
    return plan


def run_recipe(recipe, run_dir: str | os.PathLike) -> dict:
    """Run every stage of `recipe` (a classification `Recipe` or a `TaggingRecipe`; its
    task's `Pipeline`) into `run_dir`, skipping finished ones, and return the report stage's
    metrics (its `gates` say whether the shipped artifact passed)."""
    import keras

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(json.loads(json.dumps(asdict(recipe), default=str)), run_dir / "recipe.json")
    # The seed clears TensorFlow's kernel cache: set it before any tokenizer exists.
    keras.utils.set_random_seed(recipe.teacher.finetune.seed)
    pipeline = pipeline_for(recipe)
    ctx = pipeline.context(recipe, run_dir, [name for name, _ in pipeline.stages])
    result = {}
    plan = plan_recipe(recipe, run_dir)
    upstream = []
    for index, stage in enumerate(plan, start=1):
        name, folder = stage.name, ctx.folder(stage.name)
        manifest_path = folder / MANIFEST
        if stage.action == "skip":
            logger.info("[%d/%d] %s: done earlier, skipped", index, len(plan), name)
            upstream.append(stage.fingerprint)
            result = json.loads(manifest_path.read_text())["metrics"]
            continue
        if stage.action == "rerun":
            logger.info("[%d/%d] %s: settings or inputs changed, running again",
                        index, len(plan), name)
            shutil.rmtree(folder)
        resume = stage.action == "resume"
        if resume:
            logger.info("[%d/%d] %s: resuming an interrupted stage", index, len(plan), name)
        else:
            logger.info("[%d/%d] %s: running", index, len(plan), name)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        metrics = stage.function(ctx, resume)
        manifest = {
            "stage": name,
            "fingerprint": stage.fingerprint,
            "upstream": list(upstream),
            "config": stage.config,
            "packages": package_versions(),
            "seconds": round(time.perf_counter() - started, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "metrics": metrics,
        }
        write_json(json.loads(json.dumps(manifest, default=str)), manifest_path)
        upstream.append(stage.fingerprint)
        result = metrics
    return result
