"""Typed configuration from plain data, with errors that name the field's path.

A recipe is YAML read with `yaml.safe_load` (no object construction), then mapped onto the
same dataclasses the Python API takes (`FinetuneConfig`, `DistillConfig`, `PruneConfig`, ...),
so there is one definition of every setting. `from_data` checks each value against the
dataclass' type hints; the dataclass' own `__post_init__` checks impossible values. Every
error names the path (`distill.temperature`), the bad value and what is allowed.
"""

import dataclasses
import math
import types
import typing

from albert_tf.errors import UserError


class RecipeError(UserError):
    """A recipe value that is unknown, of the wrong type, or impossible."""


def _type_name(hint) -> str:
    origin = typing.get_origin(hint)
    if hint is type(None):
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin in (list, tuple):
        args = typing.get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} ({', '.join(_type_name(a) for a in args)})"
        return f"a list of {_type_name(args[0])}" if args else "a list"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        hint, getattr(hint, "__name__", str(hint)))


def _convert(value, hint, path: str):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is typing.Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, path)
            except RecipeError as exc:
                errors.append(exc)
        if len(errors) == 1:  # Optional[X]: report X's own, more precise error
            raise errors[0]
        raise RecipeError(f"{path}: expected {_type_name(hint)}, got {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise RecipeError(f"{path}: expected {_type_name(hint)}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_data(hint, value, path)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise RecipeError(f"{path}: expected {_type_name(hint)}, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise RecipeError(f"{path}: expected {_type_name(hint)}, got {value!r}")
            return tuple(_convert(v, a, f"{path}[{i}]") for i, (v, a) in
                         enumerate(zip(value, args)))
        item = args[0] if args else typing.Any
        items = [_convert(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise RecipeError(f"{path}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise RecipeError(f"{path}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecipeError(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{path}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise RecipeError(f"{path}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise RecipeError(f"{path}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{path}: recipe fields of type {hint!r} are not supported")


def from_data(cls, data, path: str = "", types: dict | None = None):
    """Build dataclass `cls` from `data` (a mapping from YAML), checking every field.

    Args:
        cls: the dataclass.
        data: a mapping (None means all defaults).
        path: where `data` sits in the recipe, for error messages.
        types: field types that replace `cls`'s own hints (a recipe's task-specific
            sections).

    Raises:
        RecipeError: an unknown key, a wrong type, or a value the dataclass rejects.
    """
    where = path or "recipe"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: expected a mapping of settings, got {data!r}")
    hints = typing.get_type_hints(cls) | (types or {})
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = unknown[0]
        raise RecipeError(f"{_join(path, key)}: unknown setting; allowed: "
                          f"{', '.join(sorted(fields))}")
    missing = [name for name, f in fields.items() if name not in data and
               f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise RecipeError(f"{_join(path, missing[0])}: required setting is missing")
    values = {key: _convert(value, hints[key], _join(path, key)) for key, value in data.items()}
    for key in (types or {}):  # a replaced section left out: the replacement's defaults
        if key not in data and fields[key].default_factory is not dataclasses.MISSING:
            values[key] = _convert({}, hints[key], _join(path, key))
    try:
        return cls(**values)
    except RecipeError:
        raise
    except (UserError, ValueError) as exc:
        raise RecipeError(f"{where}: {exc}") from exc


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)
