"""The artifacts of a recipe run folder, in report order.

teacher `export/teacher-float32.tflite`, the model's `export/model-<mode>.tflite` files, its
SavedModel (`export/serving/<name>/<version>`), the teacher's SavedModel (written into the
bench's own folder when the run has none: speed-ups are measured against it), and the final
Keras model (the last stage's `model/`). Raw-text `.tflite` files are left out: the bench
times token inputs, the same for every artifact.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from albert_tf.bench.artifacts import Artifact, tflite_mode
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

MODEL_STAGES = ("prune", "distill", "student", "teacher")
MODE_ORDER = ("float32", "float16", "dynamic-int8", "int8", "int16x8")


def final_model_dir(run_dir: Path) -> Path:
    """The model the run ended with (the last stage that saved one)."""
    for stage in MODEL_STAGES:
        folder = run_dir / stage / "model"
        if (folder / "task.json").is_file():
            return folder
    raise UserError(f"{run_dir} holds no saved model (teacher/model, ... prune/model): "
                    "not a recipe run folder")


def _saved_models(serving: Path) -> list[Path]:
    return sorted(p.parent for p in serving.glob("*/*/saved_model.pb")
                  if p.parent.name.isdigit())


def teacher_saved_model(teacher_dir: Path, work_dir: Path) -> Path:
    """The teacher as a TF Serving SavedModel, exported once into `work_dir`."""
    folder = work_dir / "teacher-serving" / "teacher" / "1"
    if not (folder / "saved_model.pb").is_file():
        from albert_tf.deploy import export_saved_model
        from albert_tf.models import load_classifier, load_label_names

        logger.info("bench: exporting the teacher's SavedModel (the speed-up reference)")
        teacher = load_classifier(teacher_dir)
        names = load_label_names(teacher_dir, teacher.num_classes)
        export_saved_model(teacher, work_dir / "teacher-serving", "teacher", 1,
                           label_names=names, overwrite=True)
    return folder


def run_artifacts(run_dir, work_dir, keras: bool = True,
                  teacher_reference: bool = True) -> list[Artifact]:
    """Every measurable artifact of a run folder.

    Args:
        run_dir: the recipe run folder.
        work_dir: where the teacher's SavedModel goes if the run has none.
        keras: include the final Keras model (compiled predict).
        teacher_reference: include the teacher's SavedModel.
    """
    run_dir, work_dir = Path(run_dir), Path(work_dir)
    export = run_dir / "export"
    if not export.is_dir():
        raise UserError(f"{run_dir} has no export/ folder: run the recipe's export stage "
                        "first (albert-tf run)")
    model_dir = final_model_dir(run_dir)
    teacher_dir = run_dir / "teacher" / "model"
    has_teacher = (teacher_dir / "task.json").is_file()
    artifacts = []
    teacher_file = export / "teacher-float32.tflite"
    if teacher_file.is_file() and has_teacher:
        artifacts.append(Artifact(teacher_file.name, "tflite", teacher_file, teacher_dir,
                                  role="teacher", mode="float32"))
    files = []
    for path in export.glob("model-*.tflite"):
        mode = tflite_mode(path) or path.stem.removeprefix("model-")
        report = path.with_name(path.name + ".json")
        if report.is_file() and json.loads(report.read_text()).get("raw_text"):
            continue
        files.append((MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER),
                      path.name, path, mode))
    for _, name, path, mode in sorted(files):
        artifacts.append(Artifact(name, "tflite", path, model_dir, mode=mode))
    for folder in _saved_models(export / "serving"):
        artifacts.append(Artifact(f"saved_model {folder.parent.name}/{folder.name}",
                                  "saved_model", folder, model_dir, mode="float32"))
    if teacher_reference and has_teacher:
        artifacts.append(Artifact("saved_model teacher", "saved_model",
                                  teacher_saved_model(teacher_dir, work_dir), teacher_dir,
                                  role="teacher", mode="float32"))
    if keras:
        artifacts.append(Artifact(f"keras {model_dir.parent.name}/model", "keras", model_dir,
                                  model_dir, mode="float32"))
    return artifacts
