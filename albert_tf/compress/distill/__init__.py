"""Knowledge distillation into smaller ALBERT students.

A frozen teacher (any keras-hub text classifier: ALBERT, or a BERT such as the MiniLM teacher)
teaches an ALBERT student through soft labels, hidden states and attention maps; its outputs
are computed once and cached in the run folder. Students start from scratch, from a truncated
ALBERT teacher, or from an albertized BERT teacher.

Examples:
>>> from albert_tf.compress.distill import DistillConfig, StudentInit, build_student, distill
>>> student = build_student(teacher, StudentInit("albertize", embedding_dim=128))  # doctest: +SKIP
>>> student, metrics = distill(teacher, student, splits, DistillConfig(epochs=4),
...                            run_dir="runs/distill")  # doctest: +SKIP
"""

from albert_tf.lazy_exports import lazy_getattr

# Loaded on first use: the settings modules (`config`) stay free of TensorFlow, and the CLI
# reads them to build its flags.
_EXPORTS = {
    "AUGMENT_SOURCES": "albert_tf.compress.distill.config",
    "AttentionDistillation": "albert_tf.compress.distill.losses",
    "DistillConfig": "albert_tf.compress.distill.config",
    "DistillationModel": "albert_tf.compress.distill.distiller",
    "HiddenStateDistillation": "albert_tf.compress.distill.losses",
    "INIT_METHODS": "albert_tf.compress.distill.student",
    "SoftLabelDistillation": "albert_tf.compress.distill.losses",
    "StudentInit": "albert_tf.compress.distill.student",
    "TeacherOutputs": "albert_tf.compress.distill.teacher_cache",
    "albertize_student": "albert_tf.compress.distill.albertize",
    "build_student": "albert_tf.compress.distill.student",
    "distill": "albert_tf.compress.distill.distiller",
    "encoder_calls": "albert_tf.compress.distill.features",
    "factorize_embeddings": "albert_tf.compress.distill.albertize",
    "feature_model": "albert_tf.compress.distill.features",
    "parse_layer_map": "albert_tf.compress.distill.config",
    "scratch_student": "albert_tf.compress.distill.scratch",
    "teacher_outputs": "albert_tf.compress.distill.teacher_cache",
    "truncate_student": "albert_tf.compress.distill.truncate",
    "uniform_layer_map": "albert_tf.compress.distill.config",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
