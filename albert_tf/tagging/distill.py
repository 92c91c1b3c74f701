"""Old home of the tagging distiller: token classifiers are distilled by the one distiller,
`albert_tf.compress.distill.distill` (or `albert_tf.distill`); `TokenDistillConfig` lives in
`albert_tf.tagging.config`."""

from albert_tf.tagging.config import TokenDistillConfig  # noqa: F401
