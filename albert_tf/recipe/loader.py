"""Read a recipe file: safe YAML, `--set key=value` overrides, then validation."""

import os
from dataclasses import asdict
from pathlib import Path

import yaml

from albert_tf.errors import UserError
from albert_tf.recipe.schema import CLASSIFICATION, TASKS, Recipe, task_section_types
from albert_tf.recipe.validate import RecipeError, from_data


class _UniqueKeyLoader(yaml.SafeLoader):
    """`yaml.safe_load`, except that a key repeated in one mapping is an error: YAML keeps
    the last copy silently, so a recipe would run with a value its reader did not see."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def section_types(data: dict) -> dict:
    """The task-specific section types of a recipe's `task` (default `classification`)."""
    task = data.get("task", CLASSIFICATION)
    if task not in TASKS:
        raise RecipeError(f"task: expected one of {', '.join(repr(t) for t in TASKS)}, "
                          f"got {task!r}")
    return task_section_types(task)


def recipe_from_data(data: dict) -> Recipe:
    """A validated `Recipe` from plain data (a parsed recipe file, or a run's recipe.json)."""
    return from_data(Recipe, data, types=section_types(data))


def apply_override(data: dict, assignment: str) -> None:
    """Apply one `dotted.key=value` (the value parsed as YAML) to `data` in place."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise RecipeError(f"--set {assignment!r}: expected key=value, e.g. distill.epochs=2")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise RecipeError(f"--set {assignment!r}: the value is not valid YAML ({exc})") from exc
    node = data
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise RecipeError(f"--set {assignment!r}: {part} is not a section")
        node = child
    node[parts[-1]] = value


def load_recipe(path: str | os.PathLike, overrides=()):
    """Parse and validate a recipe; every problem is a `RecipeError` naming its field."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"recipe not found: {path}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe is a mapping of sections, got {type(data).__name__}")
    for assignment in overrides:
        apply_override(data, assignment)
    try:
        return recipe_from_data(data)
    except RecipeError as exc:
        raise RecipeError(f"{path}: {exc}") from exc


def recipe_to_data(recipe) -> dict:
    """The recipe as plain data (for manifests and reports)."""
    return asdict(recipe)
