"""albert_tf: ship compressed ALBERT text models.

The verbs work for text classifiers and token classifiers alike, on the `Splits` their
loaders return, and return `(model, metrics)` (`export`: `(path, report)`):
`finetune`, `distill`, `prune`, `quantize`, `evaluate`, `export(model, path,
format="tflite" | "saved_model" | "edge")`. See `albert_tf.verbs`.

They are loaded on first use: `import albert_tf` (and `albert-tf --help`) starts no
TensorFlow.
"""

__version__ = "0.1.0"

VERBS = ("distill", "evaluate", "export", "finetune", "prune", "quantize")

__all__ = ["__version__", *VERBS]


def __getattr__(name):
    if name in VERBS:
        from albert_tf import verbs

        return getattr(verbs, name)
    raise AttributeError(f"module 'albert_tf' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(VERBS))
