"""The one exception type for bad user input.

Library code raises `UserError` for anything the user can fix (a missing file, an unknown
source, a wrong column, a bad number). It is a `ValueError`, so code that already handles bad
values handles it too. The CLI turns it into one line on stderr and exit code 2;
everything else is a bug and keeps its traceback.
"""

import re


class UserError(ValueError):
    """Bad input from the user: the message says what was wrong and what is allowed."""


class ParityError(RuntimeError):
    """An exported artifact does not compute what the Keras model computes, so it was not
    written (`albert_tf.deploy.parity.enforce_parity`). The CLI exits 1 with one line."""


def check_finite_numbers(config) -> None:
    """Raise `UserError` for an infinite or NaN float field of dataclass `config`: range
    checks such as `learning_rate > 0` let infinity through, and it trains to NaN."""
    import dataclasses
    import math

    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{field.name} must be a finite number. Received: "
                            f"{field.name}={value}")


def check_fields(config, checks) -> None:
    """Validate dataclass `config`: finite numbers first, then each `(field name, ok,
    what is allowed)` of `checks`; the first that fails is a `UserError` naming the field,
    what is allowed and the value received."""
    check_finite_numbers(config)
    for name, ok, allowed in checks:
        if not ok:
            raise UserError(f"{name} must be {allowed}. Received: {name}={getattr(config, name)}")


PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_plain_name(value: str, what: str) -> str:
    """`value` as one folder or file name: letters, digits, `.`, `_`, `-`, starting with a
    letter or digit. Names become paths (`runs/<name>`, `serving/<model_name>`); a `/` or
    `..` would write outside the run folder."""
    if not PLAIN_NAME.fullmatch(value):
        raise UserError(f"{what} must be a plain name (letters, digits, '.', '_', '-', "
                        f"starting with a letter or digit, at most 100). Received: {value!r}")
    return value


def check_writable_parent(path) -> None:
    """Refuse a file or folder path whose nearest existing ancestor is a file, or a folder
    this process cannot write into.

    Args:
        path: a `pathlib.Path` to be created.
    """
    import os

    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"cannot write {path}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK):
                raise UserError(f"cannot write {path}: {parent} is not writable")
            return


def check_output_file(path, overwrite: bool = False):
    """Refuse, before any work is done, an output file path that cannot be written or that
    names something the user has and did not agree to replace.

    Args:
        path: the file to be written.
        overwrite: allow replacing an existing file (never a folder).

    Returns:
        `path` as a `pathlib.Path`.
    """
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder: give the path of the file to write, e.g. "
                        f"{path / 'model.tflite'}")
    check_writable_parent(path)
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists: choose another name, or pass --overwrite to "
                        "replace it")
    return path
