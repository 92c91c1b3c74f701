"""`run --check`: the stage plan a run would follow, read from the run folder's manifests."""

import json
from pathlib import Path

from albert_tf.cli import main
from albert_tf.recipe.loader import load_recipe
from albert_tf.recipe.runner import MANIFEST, plan_recipe

TINY = Path(__file__).resolve().parent / "tiny.yaml"


def finish(run_dir, stage):
    """Leave the folder a finished stage leaves: a manifest with the planned fingerprint."""
    (run_dir / stage.name).mkdir(parents=True, exist_ok=True)
    (run_dir / stage.name / MANIFEST).write_text(json.dumps({"fingerprint": stage.fingerprint}))


def test_a_fresh_run_folder_runs_every_stage(tmp_path):
    plan = plan_recipe(load_recipe(TINY), tmp_path / "run")
    assert [s.name for s in plan] == ["teacher", "student", "distill", "prune", "export",
                                      "report"]
    assert {s.action for s in plan} == {"run"}


def test_finished_stages_are_skipped_interrupted_resumed_changed_rerun(tmp_path):
    run_dir = tmp_path / "run"
    teacher, student, distill, *_ = plan_recipe(load_recipe(TINY), run_dir)
    finish(run_dir, teacher)
    finish(run_dir, student)
    (run_dir / "distill").mkdir()  # killed mid-stage: a folder without a manifest
    assert [s.action for s in plan_recipe(load_recipe(TINY), run_dir)][:4] == [
        "skip", "skip", "resume", "run"]

    # A new student setting changes the student's fingerprint and so every later one.
    changed = plan_recipe(load_recipe(TINY, ["student.num_layers=1"]), run_dir)
    assert [s.action for s in changed][:3] == ["skip", "rerun", "resume"]
    assert changed[2].fingerprint != distill.fingerprint


def test_run_check_prints_the_plan_and_a_verdict_and_writes_nothing(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main(["run", str(TINY), "--check", "--run-dir", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "1. teacher  run" in out and "6. report   run" in out
    assert out.strip().splitlines()[-1] == f"{TINY}: valid (6 stages, 6 to run)"
    assert not run_dir.exists()


def test_run_check_json_prints_the_recipe_with_defaults(tmp_path, capsys):
    assert main(["run", str(TINY), "--check", "--json", "--run-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    recipe = json.loads(out[:out.index("\nplan for")])
    assert recipe["distill"]["temperature"] == 2.0  # a default, filled in


def test_a_data_file_edited_in_place_reruns_every_stage(tmp_path):
    data = tmp_path / "reviews.csv"
    data.write_text("text,label\n" + "".join(f"good {i},pos\nbad {i},neg\n" for i in range(20)))
    run_dir = tmp_path / "run"
    overrides = [f"data.source={data}"]
    plan = plan_recipe(load_recipe(TINY, overrides), run_dir)
    for stage in plan:
        finish(run_dir, stage)
    assert {s.action for s in plan_recipe(load_recipe(TINY, overrides), run_dir)} == {"skip"}
    data.write_text(data.read_text().replace("good 3,pos", "good 3,neg"))  # same path
    assert {s.action for s in plan_recipe(load_recipe(TINY, overrides), run_dir)} == {"rerun"}
