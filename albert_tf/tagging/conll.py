"""Read CoNLL-format token files: one token per line, columns split by whitespace (or a given
separator), a blank line between sentences, `-DOCSTART-` lines ignored.

CoNLL-2003 NER files (`word POS chunk NER`) are read with the defaults: the word is column 0 and
the tag the last column. Tags are kept as written (BIO / IOB2 such as `B-PER`, `I-PER`, `O`).
"""

from __future__ import annotations

import os
from pathlib import Path

from albert_tf.errors import UserError

DOCSTART = "-DOCSTART-"


def read_conll(path: str | os.PathLike, word_column: int = 0, tag_column: int = -1,
               separator: str | None = None) -> list[tuple[list[str], list[str]]]:
    """All sentences of a CoNLL file as `(words, tags)`.

    Args:
        path: the file (UTF-8).
        word_column: column index of the word (negative counts from the end).
        tag_column: column index of the tag; -1 is the last column.
        separator: column separator; None splits on any whitespace (CoNLL-2003 uses spaces,
            many NER files tabs).

    Raises:
        UserError: a missing file, a line with too few columns, or no sentences at all.

    Examples:
    >>> read_conll("eng.train")[0]  # doctest: +SKIP
    (['EU', 'rejects', 'German', 'call'], ['B-ORG', 'O', 'B-MISC', 'O'])
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"CoNLL file not found: {path}")
    needed = max(word_column if word_column >= 0 else -word_column - 1,
                 tag_column if tag_column >= 0 else -tag_column - 1) + 1
    sentences: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []

    def close_sentence():
        if words:
            sentences.append((list(words), list(tags)))
        words.clear()
        tags.clear()

    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                close_sentence()
                continue
            columns = line.split(separator) if separator else line.split()
            if columns[0] == DOCSTART:
                close_sentence()
                continue
            if len(columns) < needed or (
                    word_column % len(columns) == tag_column % len(columns)):
                raise UserError(f"{path}:{number}: {len(columns)} column(s) cannot hold word "
                                f"column {word_column} and a separate tag column "
                                f"{tag_column}: {line[:80]!r}")
            words.append(columns[word_column])
            tags.append(columns[tag_column])
    close_sentence()
    if not sentences:
        raise UserError(f"{path}: no sentences (expected one token per line, blank lines "
                        "between sentences)")
    return sentences
