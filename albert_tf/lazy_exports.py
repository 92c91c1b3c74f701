"""Lazy package attributes (PEP 562): a package names what it exports and from which module,
and a module is imported only when one of its names is first used, so importing the package
(and `albert-tf --help`) does not start TensorFlow."""

import importlib


def lazy_getattr(package: str, exports: dict[str, str]):
    """A module-level `__getattr__` for `package` that imports `exports[name]` on first use.

    Args:
        package: the package's `__name__`, for the error message.
        exports: `{attribute: module that defines it}`.
    """

    def __getattr__(name):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
