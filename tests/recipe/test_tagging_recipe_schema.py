"""Token-classification recipes are validated like classification ones: every error names
the field's path, the bad value and what is allowed."""

import pytest

from albert_tf.recipe.loader import load_recipe
from albert_tf.recipe.validate import RecipeError

BASE = ("name: t\ntask: token-classification\n"
        "export: {tflite_modes: [float32, dynamic-int8]}\n")


def write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


def test_the_shipped_recipes_map_onto_the_tagging_configs():
    from albert_tf.compress.distill.student import StudentInit
    from albert_tf.recipe.tagging_schema import TaggingRecipe
    from albert_tf.tagging.config import TaggingDataSpec, TokenDistillConfig
    from albert_tf.tagging.prune import TagPruneConfig

    recipe = load_recipe(RECIPE_TINY)
    assert isinstance(recipe, TaggingRecipe) and recipe.task == "token-classification"
    assert isinstance(recipe.data, TaggingDataSpec) and recipe.data.source == "brown-corpus"
    assert isinstance(recipe.prune.config, TagPruneConfig)
    assert isinstance(recipe.distill, TokenDistillConfig)
    # The POS recipe: the MiniLM teacher, albertized into the student, no pruning.
    recipe = load_recipe("recipes/pos-brown.yaml")
    assert isinstance(recipe.distill, TokenDistillConfig) and recipe.prune is None
    assert recipe.teacher.model == "minilm-teacher"
    assert recipe.teacher.precision == "mixed_bfloat16"
    assert isinstance(recipe.student, StudentInit) and recipe.student.method == "albertize"
    assert recipe.gates.min_retention == 0.99 and recipe.gates.min_speedup == 4.0
    ner = load_recipe("recipes/peoples-daily-ner.yaml")
    assert isinstance(ner, TaggingRecipe) and ner.data.source == "peoples-daily"
    assert ner.gates.min_margin_over_baseline == 0.0


RECIPE_TINY = "tests/recipe/tiny_tagging.yaml"


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
    base = BASE.split("export:")[0] if text.startswith("export:") else BASE  # one export key
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
    recipe = load_recipe(RECIPE_TINY, ["distill.epochs=3", "data.test_limit=10"])
    assert recipe.distill.epochs == 3 and recipe.data.test_limit == 10
