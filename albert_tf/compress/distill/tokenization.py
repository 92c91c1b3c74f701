"""Whether teacher and student share a tokenizer, and a student's own preprocessor.

Soft labels compare two logit vectors per text, so they work whatever each model's tokenizer
is. Hidden states and attention are compared position by position, which is only meaningful
when both models see the same token ids: then the teacher is run on the student's inputs.
"""

from __future__ import annotations

import logging

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

# Tokenizer settings that do not change which ids a text gets.
_IRRELEVANT_CONFIG_KEYS = {"name", "dtype", "trainable", "vocabulary", "proto", "merges",
                           "sequence_length"}


def _tokenizer_signature(preprocessor):
    tokenizer = preprocessor.tokenizer
    config = {k: v for k, v in tokenizer.get_config().items() if k not in _IRRELEVANT_CONFIG_KEYS}
    return type(tokenizer).__name__, config, list(tokenizer.get_vocabulary())


def shares_tokenizer(teacher, student) -> bool:
    """True when teacher and student map every text to the same token ids.

    Compares the tokenizer classes, their id-relevant settings (lower-casing, accents, special
    tokens) and their full vocabularies.

    Args:
        teacher: keras-hub classifier with a preprocessor.
        student: keras-hub classifier with a preprocessor.
    """
    if teacher.preprocessor is None or student.preprocessor is None:
        return False
    return _tokenizer_signature(teacher.preprocessor) == _tokenizer_signature(student.preprocessor)


def require_shared_tokenizer(teacher, student) -> None:
    """Raise `UserError` unless hidden-state / attention transfer is possible.

    Args:
        teacher: keras-hub classifier with a preprocessor.
        student: keras-hub classifier with a preprocessor.
    """
    if not shares_tokenizer(teacher, student):
        teacher_tok, student_tok = (
            type(m.preprocessor.tokenizer).__name__ if m.preprocessor else None
            for m in (teacher, student))
        raise UserError(
            "hidden-state and attention transfer compare token positions, so teacher and student "
            f"must share one tokenizer (teacher: {teacher_tok}, student: {student_tok}, with "
            "different vocabularies or settings); use soft labels only (hidden_weight=0, "
            "attention_weight=0), or a student made by 'truncate' / 'albertize', which keeps the "
            "teacher's tokenizer")
    student_length = int(student.preprocessor.sequence_length)
    teacher_limit = int(getattr(teacher.backbone, "max_sequence_length", student_length))
    if student_length > teacher_limit:
        raise UserError(f"the student's sequence_length {student_length} exceeds the teacher's "
                        f"max_sequence_length {teacher_limit}: shorten the student's sequences")


def copy_preprocessor(preprocessor, sequence_length: int | None = None):
    """A new preprocessor of the same class over the same tokenizer.

    A student built from a teacher gets its own preprocessor, so changing one model's
    `sequence_length` never changes the other's; the tokenizer (stateless) is shared.

    Args:
        preprocessor: a keras-hub text classifier preprocessor.
        sequence_length: the copy's sequence length (default: the original's).
    """
    if preprocessor is None:
        raise UserError("the teacher has no preprocessor: attach one (a keras-hub "
                        "TextClassifierPreprocessor) so the student can reuse its tokenizer")
    return type(preprocessor)(
        tokenizer=preprocessor.tokenizer,
        sequence_length=int(sequence_length or preprocessor.sequence_length),
        truncate=preprocessor.truncate,
    )
