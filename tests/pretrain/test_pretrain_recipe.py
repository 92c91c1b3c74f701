"""The `pretrain` recipe stage, through the GPU recipe's own file at test size on the CPU."""

import json

import pytest

from albert_tf.cli import main
from albert_tf.errors import UserError

RECIPE = "recipes/albert-small-pretrain-gpu.yaml"
SHRINK = [
    "data.train_limit=96", "data.dev_limit=24", "data.test_limit=24", "teacher.model=albert-tiny",
    "pretrain.corpus=[brown-corpus,rotten-tomatoes]", "pretrain.vocab_size=1500",
    "pretrain.sequence_length=32", "pretrain.train.steps=4", "pretrain.train.batch_size=8",
    "pretrain.train.checkpoint_every=2", "teacher.sequence_length=32",
    "teacher.finetune.epochs=1", "teacher.finetune.batch_size=16",
    "bench.threads=[1]", "bench.latency_runs=2", "bench.memory=false", "bench.onnx=false",
    "bench.real_length_examples=0", "bench.teacher_saved_model=false",
    "export.edge_bundle=false",
]


def test_the_recipe_plans_pretraining_before_the_teacher():
    from albert_tf.recipe.loader import load_recipe
    from albert_tf.recipe.runner import plan_recipe
    from albert_tf.recipe.schema import pretrain_job

    recipe = load_recipe(RECIPE)
    job = pretrain_job(recipe.pretrain, recipe.teacher.model, recipe.data.source,
                       recipe.data.seed)
    assert job.leave_out == ["rotten-tomatoes"] and job.model == "albert-small"
    assert job.precision == "mixed_bfloat16" and job.train.steps == 100_000
    plan = plan_recipe(recipe, "/nonexistent/run")
    assert [s.name for s in plan] == ["pretrain", "teacher", "export", "report"]
    with pytest.raises(UserError, match="pretrain.corpus must name at least one source"):
        load_recipe(RECIPE, ["pretrain.corpus=[]"])


@pytest.mark.slow
def test_pretrain_then_teacher_then_export_on_real_text(tmp_path, monkeypatch):
    import keras

    run_dir = tmp_path / "run"
    try:
        code = main(["run", RECIPE, "--run-dir", str(run_dir),
                     *[a for s in SHRINK for a in ("--set", s)]])
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert code in (0, 1)  # the gates judge a model pre-trained for 4 steps
    pretrain = json.loads((run_dir / "pretrain" / "manifest.json").read_text())["metrics"]
    assert pretrain["steps"] == 4
    notes = pretrain["corpus"]["sources"]
    assert notes[0].startswith("brown-corpus: every corpus file a document")
    assert notes[1].startswith("rotten-tomatoes: training split only")
    teacher_job = json.loads((run_dir / "teacher" / "metrics.json").read_text())["job"]
    assert teacher_job["model"] == str(run_dir / "pretrain" / "model")
    teacher = json.loads((run_dir / "teacher" / "model" / "config.json").read_text())
    pretrained = json.loads((run_dir / "pretrain" / "model" / "config.json").read_text())
    assert teacher["config"]["vocabulary_size"] == pretrained["config"]["vocabulary_size"]
    results = json.loads((run_dir / "report" / "results.json").read_text())
    assert "min_margin_over_baseline" in {g["gate"] for g in results["gates"]}
