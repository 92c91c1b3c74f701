"""Command-line flags derived from a configuration dataclass, so that a setting is defined once.

For every field of the dataclass: the flag is the field name (`learning_rate` ->
`--learning-rate`), the type comes from the annotation, the default is the field's default, and
the help is the field's entry in the class docstring's `Args:` section. A value is checked on
parsing by the dataclass itself (`__post_init__`): the flag's value, with every other field at
its default, must make a valid instance, otherwise argparse prints the dataclass' own message
and exits 2. The recipe schema reads the same dataclasses (`albert_tf.recipe.validate`).

Example:
```python
add_config_flags(parser.add_argument_group("training"), FinetuneConfig,
                 rename={"jit_compile": "xla"}, skip={"seed"})
config = config_from_args(FinetuneConfig, parser.parse_args(argv))
```
"""

import argparse
import dataclasses
import inspect
import math
import re
import types
import typing

_ENTRY = re.compile(r"^    ([A-Za-z_]\w*(?:, [A-Za-z_]\w*)*): ?(.*)$")


def field_help(cls) -> dict:
    """Field name -> the text of its entry in `cls`'s Google-style `Args:` section (an entry
    naming several fields, `model_name, version: ...`, is given to each)."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    if "Args:" not in lines:
        return {}
    entries, names = {}, []
    for line in lines[lines.index("Args:") + 1:]:
        match = _ENTRY.match(line)
        if match:
            names = match.group(1).split(", ")
            for name in names:
                entries[name] = [match.group(2).strip()]
        elif line.startswith("     ") and names:  # a continuation line of the entry
            for name in names:
                entries[name].append(line.strip())
        elif line.strip():  # the next section (`Returns:`, ...) ends `Args:`
            break
    return {name: " ".join(parts).strip() for name, parts in entries.items()}


def _unwrap_optional(hint):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _scalar(parse, allowed: str):
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):  # NaN and inf train to NaN
            raise argparse.ArgumentTypeError(f"expected {allowed}, got {text!r}")
        return value
    convert.__name__ = allowed
    return convert


def _int_tuple(size: int):
    """`"1x4"`, `"2:4"` or `"1,4"`: `size` whole numbers."""
    def convert(text: str):
        parts = re.split(r"[x:,]", text.strip())
        try:
            values = tuple(int(p) for p in parts)
        except ValueError:
            values = ()
        if len(values) != size:
            raise argparse.ArgumentTypeError(
                f"expected {size} whole numbers such as {'x'.join(['2'] * size)}, got {text!r}")
        return values
    return convert


_SCALARS = {int: _scalar(int, "a whole number"), float: _scalar(float, "a finite number"),
            str: str}


class _Collect(argparse.Action):
    """Repeatable flag for a list or tuple field: the first use replaces the default, later
    uses add to it (argparse's `append` would add to a non-empty default)."""

    def __init__(self, *args, collection=list, **kwargs):
        self.collection = collection
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        current = getattr(namespace, self.dest, None)
        items = [] if current is self.default or current is None else list(current)
        setattr(namespace, self.dest, self.collection([*items, values]))


def _argument_options(hint, name: str):
    """argparse keyword arguments for a field of type `hint`, and how one parsed value
    becomes the field's value (for the check against the dataclass)."""
    hint = _unwrap_optional(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}, None
    if origin is typing.Literal:
        return {"choices": list(args), "type": type(args[0])}, None  # argparse names choices
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}, (lambda v: v)
    if origin is tuple and args and args[-1] is not Ellipsis and set(args) == {int}:
        return {"type": _int_tuple(len(args))}, (lambda v: v)
    if origin in (list, tuple) and args:
        item = _unwrap_optional(args[0])
        options, _ = _argument_options(item, name)
        if "action" in options or typing.get_origin(item) in (list, tuple):
            raise TypeError(f"{name}: no flag for a list of {item!r}; give its `type`")
        return ({**options, "action": _Collect, "collection": origin},
                (lambda v: origin([v])) if "choices" not in options else None)
    raise TypeError(f"{name}: no flag for type {hint!r}; give its `type` or skip it")


def _default(field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _checked(convert, cls, name: str, as_field, base: dict):
    """`convert`, then the dataclass' own check of the result: its message, not a traceback
    later, and argparse names the flag."""
    def check(text: str):
        try:
            value = convert(text)
        except argparse.ArgumentTypeError:
            raise
        except ValueError as exc:  # a command's own parser raising `UserError`
            raise argparse.ArgumentTypeError(str(exc)) from None
        try:
            cls(**base)
        except ValueError:
            return value  # the other fields' defaults alone are not valid: checked when built
        try:
            cls(**{**base, name: as_field(value)})
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value
    check.__name__ = getattr(convert, "__name__", name)
    return check


def add_config_flags(parser, cls, *, rename: dict | None = None, skip=(), only=None,
                     options: dict | None = None, base: dict | None = None) -> list:
    """Add a flag for every field of dataclass `cls` to `parser` (or an argument group).

    Args:
        parser: an `argparse.ArgumentParser` or argument group.
        cls: the configuration dataclass.
        rename: field name -> flag name without `--` (or a tuple of names, the first shown
            first), where a command keeps an older name (`{"jit_compile": "xla"}`).
        skip: fields that get no flag (set by the command from other arguments).
        only: if given, only these fields get a flag.
        options: field name -> argparse keyword arguments that replace the derived ones
            (`nargs`, `metavar`, `required`, a `type` for a type with no derived parser).
        base: field values that, with every other field at its default, make a valid
            instance; each flag's value is checked against them (default: all defaults).

    Returns:
        The names of the fields that got a flag (each stored under its field name).
    """
    rename, options, base = rename or {}, options or {}, base or {}
    hints = typing.get_type_hints(cls)
    docs = field_help(cls)
    added = []
    for field in dataclasses.fields(cls):
        name = field.name
        if not field.init or name in skip or (only is not None and name not in only):
            continue
        extra = dict(options.get(name, {}))
        if "type" in extra:  # the command parses this one itself
            kwargs, as_field = {}, (lambda v: v)
        else:
            kwargs, as_field = _argument_options(hints[name], name)
        kwargs.update(extra)
        if kwargs.get("nargs") and kwargs.get("action") is _Collect:  # a list in one go
            kwargs.pop("action"), kwargs.pop("collection")
        if as_field is not None and "type" in kwargs:
            kwargs["type"] = _checked(kwargs["type"], cls, name, as_field, base)
        kwargs.setdefault("default", _default(field))
        kwargs.setdefault("help", _help(docs.get(name, ""), kwargs["default"]))
        flags = rename.get(name, name.replace("_", "-"))
        flags = (flags,) if isinstance(flags, str) else tuple(flags)
        if kwargs.get("choices") and len(flags) > 1:  # else argparse lists them per flag
            kwargs.setdefault("metavar", name.upper())
            kwargs["help"] += f" (one of: {', '.join(map(str, kwargs['choices']))})"
        parser.add_argument(*(f"--{f}" for f in flags), dest=name, **kwargs)
        added.append(name)
    return added


def _help(text: str, default) -> str:
    # argparse formats help with %; the CLI's help lines end without a full stop
    text = text.replace("`", "").replace("%", "%%").rstrip(".")
    # argparse shows a boolean flag's default itself
    if default is None or isinstance(default, bool) or default in ((), [], ""):
        return text
    shown = "x".join(map(str, default)) if isinstance(default, tuple) else default
    return f"{text} (default: {shown})".strip()


def config_from_args(cls, args: argparse.Namespace, **values):
    """Build dataclass `cls` from the parsed `args` (each field read from the attribute of its
    name, when there is one), with `values` taking precedence."""
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    kwargs.update(values)
    return cls(**kwargs)
