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

One set of stage functions serves every task: what differs between tasks (building and
saving a model, distilling, exporting) is asked of the task adapter (`albert_tf.tasks`).
Only the order differs (`STAGE_ORDERS`): token classification prunes before it distils.
"""

import hashlib
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
    """What the stages share: the recipe, its task's adapter, the run folder, the data
    (loaded once).

    Args:
        recipe: the validated recipe.
        run_dir: the run folder.
    """

    def __init__(self, recipe: Recipe, run_dir: Path):
        from albert_tf.tasks.adapter import task_adapter

        self.recipe = recipe
        self.run_dir = run_dir
        self.adapter = task_adapter(recipe.task)
        self.stage_order = STAGE_ORDERS[recipe.task]
        self._splits = None

    @property
    def splits(self):
        if self._splits is None:
            self._splits = self.adapter.load_splits(self.recipe.data)
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

    def load(self, stage_or_dir) -> tuple:
        """`(model, label names)` saved by a stage (a stage name or a model folder)."""
        folder = self.model_dir(stage_or_dir) if isinstance(stage_or_dir, str) else stage_or_dir
        return self.adapter.load(folder)


# --- stages: each returns its metrics; models go to <stage>/model ------------------------------
# Every stage is the same for both tasks; what differs (how a teacher is built, saved, distilled,
# exported) is asked of the task adapter (`albert_tf.tasks`).

def stage_pretrain(ctx, resume: bool) -> dict:
    """Pre-train the teacher's model on the section's corpus."""
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
    return ctx.adapter.finetune_teacher(ctx.recipe.data, teacher_model(ctx), ctx.recipe.teacher,
                                        ctx.folder("teacher"), resume)


def stage_student(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.compress.distill import build_student
    from albert_tf.models import count_parameters

    teacher, names = ctx.load("teacher")
    student = build_student(teacher, ctx.recipe.student,
                            texts=ctx.adapter.texts(ctx.splits.train))
    ctx.adapter.save(student, ctx.model_dir("student"), names, overwrite=True)
    return {"init": asdict(ctx.recipe.student), **count_parameters(student)}


def stage_distill(ctx: RunContext, resume: bool) -> dict:
    teacher, _ = ctx.load("teacher")
    # The student is rebuilt from its saved parent each time; a resumed stage then puts the
    # last finished epoch's weights and optimizer state back from the checkpoints.
    student, names = ctx.load(ctx.latest_model_dir("distill"))
    student, metrics = ctx.adapter.distill(teacher, student, ctx.splits, ctx.recipe.distill,
                                           ctx.folder("distill") / "work", resume, 2,
                                           data_spec=ctx.recipe.data)
    ctx.adapter.save(student, ctx.model_dir("distill"), names, overwrite=True)
    return metrics


def stage_prune(ctx: RunContext, resume: bool) -> dict:
    adapter, section = ctx.adapter, ctx.recipe.prune
    parent_dir = ctx.latest_model_dir("prune")
    model, names = ctx.load(parent_dir)
    pruned, metrics = adapter.prune(model, ctx.splits, section.config)
    # Before any recovery: how much the cut alone cost.
    key = adapter.accuracy_key
    metrics[f"dev_{key}"] = adapter.evaluate(pruned, ctx.splits.dev)[key]
    if section.recover is not None:
        # Recover by distillation from the unpruned model, the usual pruning recipe.
        parent, _ = ctx.load(parent_dir)
        pruned, metrics["recovery"] = adapter.distill(
            parent, pruned, ctx.splits, section.recover, ctx.folder("prune") / "recover",
            resume, 2, data_spec=ctx.recipe.data)
    adapter.save(pruned, ctx.model_dir("prune"), names, overwrite=True)
    return metrics


CALIBRATED_MODES = ("int8", "int16x8")


def stage_export(ctx: RunContext, resume: bool) -> dict:
    adapter, section = ctx.adapter, ctx.recipe.export
    folder = ctx.folder("export")
    model, names = ctx.load(ctx.latest_model_dir("export"))
    allow = section.allow_mismatch

    def tflite(source, path, mode, **options):
        if mode in CALIBRATED_MODES:
            options["representative_data"] = ctx.splits.train.select(
                range(min(section.calibration_examples, len(ctx.splits.train))))
        return adapter.export(source, path, "tflite", None, {
            "mode": mode, "label_names": names, "allow_mismatch": allow, **options})

    artifacts = {}
    for mode in section.tflite_modes:
        logger.info("export: TFLite %s", mode)
        artifacts[mode] = tflite(model, folder / f"model-{mode}.tflite", mode)
    if section.raw_text_tflite:
        artifacts["raw-text-float32"] = tflite(
            model, folder / "model-raw-text-float32.tflite", "float32", raw_text=True)
    if section.teacher_baseline:
        teacher, _ = ctx.load("teacher")
        artifacts["teacher-float32"] = tflite(teacher, folder / "teacher-float32.tflite",
                                              "float32")
    if section.edge_bundle:
        logger.info("export: edge bundle")
        shipped = ctx.recipe.gates.artifact
        artifacts["edge_bundle"] = adapter.export(model, folder / "edge-bundle", "edge", None, {
            "tflite_path": folder / f"model-{shipped}.tflite", "label_names": names,
            "overwrite": True, "allow_mismatch": allow})
    if section.saved_model:
        logger.info("export: SavedModel %s/%s", section.model_name, section.version)
        artifacts["saved_model"] = adapter.export_serving(
            model, folder / "serving", section.model_name, section.version, names, ctx.splits,
            section.serving_base_path, allow)
    return {"artifacts": artifacts}


def stage_report(ctx: RunContext, resume: bool) -> dict:
    from albert_tf.recipe.report import build_report

    return build_report(ctx)


STAGES = {
    "pretrain": stage_pretrain,
    "teacher": stage_teacher,
    "student": stage_student,
    "distill": stage_distill,
    "prune": stage_prune,
    "export": stage_export,
    "report": stage_report,
}
# The order of the stages per task. Classification distils the student, then prunes and
# recovers by distilling from the unpruned model; token classification prunes the teacher
# into the student first, and the distillation after it is the recovery.
STAGE_ORDERS = {
    "classification": ["pretrain", "teacher", "student", "distill", "prune", "export",
                       "report"],
    "token-classification": ["pretrain", "teacher", "student", "prune", "distill", "export",
                             "report"],
}


def pretrain_fingerprint(recipe) -> dict | None:
    """What the pretrain stage depends on: its section, the model it starts from and the
    data whose held-out texts it leaves out (None: no pretrain stage)."""
    if recipe.pretrain is None:
        return None
    return {"pretrain": recipe.pretrain, "model": recipe.teacher.model,
            "data_source": recipe.data.source, "seed": recipe.data.seed}


def stage_sections(recipe: Recipe) -> dict:
    """What each stage's fingerprint covers; a stage whose configuration is None does not
    run."""
    return {
        "pretrain": pretrain_fingerprint(recipe),
        "teacher": {"data": recipe.data, "teacher": recipe.teacher},
        "student": recipe.student,
        "distill": recipe.distill,
        "prune": recipe.prune,
        "export": recipe.export,
        "report": {"bench": recipe.bench, "gates": recipe.gates},
    }


def _stage_config(recipe, stage: str):
    section = stage_sections(recipe)[stage]
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
    digests = data_file_digests(recipe)
    upstream = [_hash({"data_files": digests})] if digests else []
    plan = []
    for name in STAGE_ORDERS[recipe.task]:
        function = STAGES[name]
        config = _stage_config(recipe, name)
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
    """Run every stage of `recipe` (in its task's `STAGE_ORDERS`) into `run_dir`, skipping
    finished ones, and return the report stage's metrics (its `gates` say whether the shipped
    artifact passed)."""
    import keras

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(json.loads(json.dumps(asdict(recipe), default=str)), run_dir / "recipe.json")
    # The seed clears TensorFlow's kernel cache: set it before any tokenizer exists.
    keras.utils.set_random_seed(recipe.teacher.finetune.seed)
    ctx = RunContext(recipe, run_dir)
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
