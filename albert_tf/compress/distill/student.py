"""`StudentInit` and `build_student`: one way to ask for any of the three student initialisations.

* `scratch`: a random ALBERT of a named or given shape, over the teacher's tokenizer or a
  SentencePiece model of its own (then only soft labels can transfer);
* `truncate`: an ALBERT teacher with fewer layer calls and, optionally, a narrower FFN;
* `albertize`: a BERT teacher turned into ALBERT (factorised embeddings, shared layer groups).
"""

from __future__ import annotations

import dataclasses

from albert_tf.errors import UserError

INIT_METHODS = ("scratch", "truncate", "albertize")


@dataclasses.dataclass
class StudentInit:
    """How to make the student.

    Args:
        method: "scratch", "truncate" or "albertize".
        shape: scratch only: a named config (`albert-tiny`, ...) or a dict of
            `AlbertBackbone` arguments.
        tokenizer: scratch only: a SentencePiece `.model` path for a tokenizer of the
            student's own; None reuses the teacher's tokenizer.
        num_layers: truncate / albertize: encoder calls of the student.
        intermediate_dim: truncate: narrower FFN width.
        embedding_dim: albertize: factorised embedding width E.
        num_groups: albertize: shared layer groups G.
        merge: albertize: "average" or "select".
        calibration_texts: albertize with "select": how many training texts to calibrate on.
        sequence_length: tokens per example for the student (default: the teacher's).
        dropout: scratch only: dropout before the classification head.
    """

    method: str = "scratch"
    shape: str | dict = "albert-tiny"
    tokenizer: str | None = None
    num_layers: int | None = None
    intermediate_dim: int | None = None
    embedding_dim: int = 128
    num_groups: int = 1
    merge: str = "average"
    calibration_texts: int = 256
    sequence_length: int | None = None
    dropout: float = 0.1

    def __post_init__(self):
        if self.method not in INIT_METHODS:
            raise UserError(f"unknown student initialisation {self.method!r}: expected one of "
                            f"{', '.join(INIT_METHODS)}")
        if self.num_groups < 1 or self.embedding_dim < 2:
            raise UserError(f"num_groups must be >= 1 and embedding_dim >= 2. Received: "
                            f"num_groups={self.num_groups}, embedding_dim={self.embedding_dim}")
        if self.num_layers is not None and (self.num_layers < 1 or (
                self.method == "albertize" and self.num_layers % self.num_groups)):
            raise UserError(f"num_layers must be >= 1 (for albertize, a multiple of num_groups). "
                            f"Received: num_layers={self.num_layers}, "
                            f"num_groups={self.num_groups}")
        if self.calibration_texts < 1:
            raise UserError(f"calibration_texts must be >= 1. Received: {self.calibration_texts}")
        if self.sequence_length is not None and self.sequence_length < 4:
            raise UserError(f"sequence_length must be >= 4. Received: {self.sequence_length}")


def build_student(teacher, init: StudentInit, texts=()):
    """Make a student classifier for `teacher` as `init` says.

    Args:
        teacher: the teacher classifier (with its preprocessor).
        init: `StudentInit`.
        texts: training texts (albertize's `select` merge calibrates on the first
            `init.calibration_texts` of them).

    Returns:
        A keras-hub ALBERT text classifier with its preprocessor.
    """
    from albert_tf.compress.distill.tokenization import copy_preprocessor

    if init.method == "truncate":
        from albert_tf.compress.distill.truncate import truncate_student

        return truncate_student(teacher, init.num_layers, init.intermediate_dim,
                                init.sequence_length)
    if init.method == "albertize":
        from albert_tf.compress.distill.albertize import albertize_student

        calibration = list(texts)[:init.calibration_texts] if init.merge == "select" else None
        return albertize_student(teacher, init.embedding_dim, init.num_groups, init.num_layers,
                                 init.merge, calibration, init.sequence_length)
    from albert_tf.compress.distill.scratch import scratch_student

    if init.tokenizer is None:
        preprocessor = copy_preprocessor(teacher.preprocessor, init.sequence_length)
    else:
        import keras_hub

        from albert_tf.models import load_albert_tokenizer

        length = init.sequence_length or int(teacher.preprocessor.sequence_length)
        preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(
            load_albert_tokenizer(init.tokenizer), sequence_length=length)
    return scratch_student(init.shape, teacher.num_classes, preprocessor, init.dropout)
