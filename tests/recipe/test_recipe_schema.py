"""Recipes are validated before anything runs; each error names the field, value, allowed.
One schema for both tasks: `task: token-classification` changes the data, distill and prune
sections, and every other section is checked the same way for both."""

from pathlib import Path

import pytest

from albert_tf.errors import UserError
from albert_tf.recipe.loader import load_recipe
from albert_tf.recipe.validate import RecipeError

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
BASE = "name: t\nexport: {tflite_modes: [float32, dynamic-int8]}\n"
TAGGING_BASE = ("name: t\ntask: token-classification\n"
                "export: {tflite_modes: [float32, dynamic-int8]}\n")
TINY_TAGGING = "tests/recipe/tiny_tagging.yaml"


def write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


def test_a_full_recipe_maps_onto_the_stage_configs(tmp_path):
    from albert_tf.compress.distill import DistillConfig
    from albert_tf.train.config import FinetuneConfig

    recipe = load_recipe("tests/recipe/tiny.yaml")
    assert isinstance(recipe.teacher.finetune, FinetuneConfig)
    assert isinstance(recipe.distill, DistillConfig) and recipe.distill.epochs == 1
    assert recipe.prune.config.structured.ffn_fraction == 0.5
    assert recipe.export.tflite_modes == ["float32", "dynamic-int8"]


@pytest.mark.parametrize("text, fragments", [
    ("distill: {epochs: 1, temprature: 2}\nstudent: {method: scratch}\n",
     ["distill.temprature", "unknown setting", "temperature"]),
    ("teacher: {finetune: {epochs: three}}\n", ["teacher.finetune.epochs", "integer", "'three'"]),
    ("teacher: {finetune: {learning_rate: true}}\n", ["teacher.finetune.learning_rate", "number"]),
    ("export: {tflite_modes: [float32, int3]}\n",
     ["export.tflite_modes[1]", "'int3'", "dynamic-int8"]),
    ("teacher: {precision: float8}\n", ["teacher.precision", "mixed_bfloat16"]),
    ("teacher: {finetune: {epochs: 0}}\n", ["teacher.finetune", "epochs must be"]),
    ("bench: {threads: []}\n", ["bench", "threads"]),
    ("gates: {artifact: int8}\n", ["gates.artifact", "int8"]),
    ("distill: {epochs: 1}\n", ["distill needs a student"]),
    ("student: {method: albertize, num_groups: 1, num_layers: 3}\ndistill: {share_groups: 1}\n",
     ["distill.share_groups", "num_groups=1", "num_layers=3"]),
    ("student: {method: albertize, num_groups: 3, num_layers: 3}\ndistill: {share_groups: 2}\n",
     ["distill.share_groups", "divide", "share_groups=2"]),
    ("student: {method: truncate}\ndistill: {share_groups: 1}\n",
     ["distill.share_groups", "'truncate'"]),
    ("student: {method: albertize}\ndistill: {share_tie_epochs: -1}\n",
     ["distill", "share_tie_epochs must be >= 0"]),
    ("teacher: [1, 2]\n", ["teacher", "mapping"]),
    ("colour: blue\n", ["colour", "unknown setting"]),
    # Infinity passes `> 0` and trains to NaN; it is refused like NaN.
    ("teacher: {finetune: {learning_rate: .inf}}\n",
     ["teacher.finetune.learning_rate", "finite number", "inf"]),
    ("student: {method: albertize}\ndistill: {temperature: .nan}\n",
     ["distill.temperature", "finite number"]),
    # Names become folders: nothing may point outside the run folder.
    ("export: {model_name: ../../../pwned}\n", ["export", "model_name", "'../../../pwned'"]),
    ("export: {serving_base_path: models}\n", ["export", "serving_base_path", "absolute"]),
    # Pruning settings are checked when the recipe is read, not when the stage runs.
    ("prune: {config: {structured: {ffn_fraction: 1.5}}}\n",
     ["prune.config.structured", "ffn_fraction must be in [0, 1)", "1.5"]),
    ("prune: {config: {}}\n", ["prune.config", "nothing to prune"]),
])
def test_invalid_recipes_name_path_value_and_allowed(tmp_path, text, fragments):
    base = "name: t\n" if text.startswith("export:") else BASE  # one export key, not two
    with pytest.raises(RecipeError) as error:
        load_recipe(write(tmp_path, base + text))
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/abs", "a/b", ".hidden", ""])
def test_a_recipe_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, name):
    with pytest.raises(RecipeError, match="name must be a plain name"):
        load_recipe(write(tmp_path, f"name: '{name}'\nexport: {{tflite_modes: [float32]}}\n"))


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    text = BASE + "teacher:\n  finetune: {epochs: 1}\n  finetune: {epochs: 9}\n"
    with pytest.raises(UserError) as error:
        load_recipe(write(tmp_path, text))
    assert "line 5" in str(error.value) and "duplicate key 'finetune' (first on line 4)" in \
        str(error.value)


def test_yaml_is_parsed_safely(tmp_path):
    text = BASE + "teacher: {model: !!python/object/apply:os.system [echo hacked]}\n"
    with pytest.raises(Exception) as error:
        load_recipe(write(tmp_path, text))
    assert "not valid YAML" in str(error.value)


def test_overrides_are_validated_like_the_file(tmp_path):
    path = write(tmp_path, BASE)
    recipe = load_recipe(path, ["teacher.finetune.epochs=4", "bench.threads=[1, 4]"])
    assert recipe.teacher.finetune.epochs == 4 and recipe.bench.threads == [1, 4]
    with pytest.raises(RecipeError, match="teacher.finetune.epochs: expected an integer"):
        load_recipe(path, ["teacher.finetune.epochs=lots"])
    with pytest.raises(RecipeError, match="expected key=value"):
        load_recipe(path, ["teacher.finetune.epochs"])


def test_retention_size_and_baseline_gates_judge_the_shipped_artifact():
    from albert_tf.recipe.schema import GatesSection

    gates = GatesSection(min_retention=0.97, min_size_reduction=10, min_margin_over_baseline=0.01)
    checks = {c["gate"]: c for c in gates.judge(0.02, 5.0, 5_000_000, retention=0.975,
                                                size_reduction=16.6, margin=0.005)}
    assert checks["min_retention"]["passed"] and checks["min_size_reduction"]["passed"]
    assert not checks["min_margin_over_baseline"]["passed"]
    assert checks["min_margin_over_baseline"]["value"] == 0.005
    # A gate whose measurement is missing is left out, not passed.
    assert [c["gate"] for c in gates.judge(None, None, 1, retention=None, size_reduction=None,
                                           margin=0.02)] == ["min_margin_over_baseline"]
    with pytest.raises(Exception, match="min_retention must lie in"):
        GatesSection(min_retention=97)


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_recipe_validates(path):
    assert load_recipe(path).name  # raises RecipeError, naming the field, when one is invalid

@pytest.mark.parametrize("text, fragments", [
    ("bench: {threads: [0]}\n", ["bench", "threads", "[0]"]),
    ("teacher: {sequence_length: 2}\n", ["teacher", "sequence_length must be >= 3"]),
    ("gates: {min_retention: 3}\n", ["gates", "min_retention", "[0, 2]"]),
    ("student: {method: albertize, num_groups: 0}\n", ["student", "num_groups"]),
])
@pytest.mark.parametrize("base", [BASE, TAGGING_BASE], ids=["classification", "tagging"])
def test_shared_sections_are_checked_alike_for_both_tasks(tmp_path, base, text, fragments):
    with pytest.raises(RecipeError) as error:
        load_recipe(write(tmp_path, base + text))
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_what_a_task_cannot_use_is_refused_by_name(tmp_path):
    with pytest.raises(RecipeError, match="teacher.model.*token-classification"):
        load_recipe(write(tmp_path, BASE + "teacher: {model: {num_layers: 2}}\n"))
    with pytest.raises(RecipeError, match="teacher.strategy.*'mirrored'"):
        load_recipe(write(tmp_path, TAGGING_BASE + "teacher: {strategy: mirrored}\n"))
    with pytest.raises(RecipeError, match="export.raw_text_tflite"):
        load_recipe(write(tmp_path, "name: t\ntask: token-classification\nexport: "
                                    "{tflite_modes: [float32], raw_text_tflite: true}\n"
                                    "gates: {artifact: float32}\n"))


def test_the_shipped_recipes_map_onto_the_tagging_configs():
    from albert_tf.compress.distill.student import StudentInit
    from albert_tf.compress.prune import PruneConfig
    from albert_tf.recipe.schema import Recipe
    from albert_tf.tagging.config import TaggingDataSpec, TokenDistillConfig

    recipe = load_recipe(TINY_TAGGING)
    assert isinstance(recipe, Recipe) and recipe.task == "token-classification"
    assert isinstance(recipe.data, TaggingDataSpec) and recipe.data.source == "brown-corpus"
    assert isinstance(recipe.prune.config, PruneConfig)
    assert isinstance(recipe.distill, TokenDistillConfig)
    # The POS recipe: the MiniLM teacher, albertized into the student, no pruning.
    recipe = load_recipe("recipes/pos-brown.yaml")
    assert isinstance(recipe.distill, TokenDistillConfig) and recipe.prune is None
    assert recipe.teacher.model == "minilm-teacher"
    assert recipe.teacher.precision == "mixed_bfloat16"
    assert isinstance(recipe.student, StudentInit) and recipe.student.method == "albertize"
    assert recipe.gates.min_retention == 0.99 and recipe.gates.min_speedup == 4.0
    ner = load_recipe("recipes/peoples-daily-ner.yaml")
    assert isinstance(ner, Recipe) and ner.data.source == "peoples-daily"
    assert ner.gates.min_margin_over_baseline == 0.0


@pytest.mark.parametrize("text, fragments", [
    ("teacher: {precision: bfloat16}\n",
     ["teacher.precision", "'bfloat16'", "mixed_bfloat16"]),
    ("student: {method: truncate}\n", ["student.method", "'truncate'", "albertize", "prune"]),
    ("student: {method: albertize, num_groups: 0}\n", ["student", "num_groups"]),
    ("data: {train_limt: 5}\n", ["data.train_limt", "unknown setting", "train_limit"]),
    ("teacher: {sequence_length: long}\n", ["teacher.sequence_length", "integer", "'long'"]),
    ("teacher: {model: [1, 2]}\n", ["teacher.model", "a string or a mapping"]),
    ("distill: {temperature: hot}\nprune: {config: {structured: {ffn_fraction: 0.5}}}\n",
     ["distill.temperature", "number", "'hot'"]),
    ("distill: {alpha: 1.5}\nprune: {config: {structured: {ffn_fraction: 0.5}}}\n",
     ["distill", "alpha", "1.5", "[0, 1]"]),
    ("prune: {config: {structured: {ffn_fraction: 1.5}}}\n",
     ["prune.config.structured", "ffn_fraction", "1.5"]),
    ("prune: {config: {}}\n", ["prune.config", "nothing to prune"]),
    ("prune: {config: {structured: {heads_fraction: 0.5}}, recover: {epochs: 1}}\n",
     ["prune.recover", "unknown setting", "config"]),
    ("export: {tflite_modes: [float32, int8]}\n",
     ["export.tflite_modes[1]", "'int8'", "dynamic-int8"]),
    ("bench: {latency_runs: 0}\n", ["bench", "latency_runs must be >= 1"]),
    ("gates: {artifact: float16}\n", ["gates.artifact", "float16"]),
    ("distill: {epochs: 1}\n", ["distill needs a student or a prune section"]),
])
def test_invalid_tagging_recipes_name_path_value_and_allowed(tmp_path, text, fragments):
    base = TAGGING_BASE.split("export:")[0] if text.startswith("export:") else TAGGING_BASE
    with pytest.raises(RecipeError) as error:
        load_recipe(write(tmp_path, base + text))
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_an_unknown_task_is_named(tmp_path):
    with pytest.raises(RecipeError) as error:
        load_recipe(write(tmp_path, "name: t\ntask: ner\n"))
    assert "task" in str(error.value) and "'ner'" in str(error.value)
    assert "token-classification" in str(error.value)


def test_overrides_reach_tagging_sections(tmp_path):
    recipe = load_recipe(TINY_TAGGING, ["distill.epochs=3", "data.test_limit=10"])
    assert recipe.distill.epochs == 3 and recipe.data.test_limit == 10
