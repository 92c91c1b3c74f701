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

from albert_tf.compress.distill.albertize import albertize_student, factorize_embeddings
from albert_tf.compress.distill.config import (
    AUGMENT_SOURCES,
    DistillConfig,
    parse_layer_map,
    uniform_layer_map,
)
from albert_tf.compress.distill.distiller import DistillationModel, distill
from albert_tf.compress.distill.features import encoder_calls, feature_model
from albert_tf.compress.distill.losses import (
    AttentionDistillation,
    HiddenStateDistillation,
    SoftLabelDistillation,
)
from albert_tf.compress.distill.scratch import scratch_student
from albert_tf.compress.distill.student import INIT_METHODS, StudentInit, build_student
from albert_tf.compress.distill.teacher_cache import TeacherOutputs, teacher_outputs
from albert_tf.compress.distill.truncate import truncate_student

__all__ = [
    "AUGMENT_SOURCES",
    "AttentionDistillation",
    "DistillConfig",
    "DistillationModel",
    "HiddenStateDistillation",
    "INIT_METHODS",
    "SoftLabelDistillation",
    "StudentInit",
    "TeacherOutputs",
    "albertize_student",
    "build_student",
    "distill",
    "encoder_calls",
    "factorize_embeddings",
    "feature_model",
    "parse_layer_map",
    "scratch_student",
    "teacher_outputs",
    "truncate_student",
    "uniform_layer_map",
]
