"""Read labelled texts from local CSV, TSV and JSON Lines files with configurable columns.

Labels: if every label is an integer (`3`, `"3"`), the integers are the ids; otherwise the
distinct strings, sorted, become `label_names` and are numbered in that order (save the
mapping with `TextExamples.save_label_map`). Passing `label_names` fixes the mapping instead
(string labels must be among them; integer ids must be below their count), and
`num_classes` bounds integer ids. Errors name the file, the line and what is allowed.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from albert_tf.data.examples import UNLABELLED, TextExamples
from albert_tf.errors import UserError

FILE_SUFFIXES = (".csv", ".tsv", ".jsonl")
_INTEGER = re.compile(r"^[+-]?\d+$")


def read_text_file(
    path: str | Path,
    text_column: str = "text",
    pair_column: str | None = None,
    label_column: str | None = "label",
    label_names: Sequence[str] | None = None,
    num_classes: int | None = None,
) -> TextExamples:
    """Read a .csv, .tsv or .jsonl file into `TextExamples` (duplicates are kept; see module doc).

    CSV files use standard quoting and may have a header row with column names (required);
    TSV files are split on tabs without quote handling (as GLUE's are); JSON Lines files hold
    one object per line. A UTF-8 byte-order mark is allowed.

    Args:
        path: the file.
        text_column: the column (key) holding the text.
        pair_column: the column holding the second text of a pair, or None.
        label_column: the column holding the label, or None for unlabelled text.
        label_names: the names of label ids 0..n-1, to map string labels and bound integer
            ids; None derives them from the file.
        num_classes: bound for integer ids (ids must be in [0, num_classes)).

    Raises:
        UserError: missing file, unknown format, missing column (the message lists the file's
            columns), empty text, bytes that are not UTF-8 (with the line), bad JSON, empty or
            out-of-range labels.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data file {path} does not exist" if not path.exists() else f"{path} is not a file")
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise UserError(f"cannot read {path.name}: the file type must be one of {', '.join(FILE_SUFFIXES)}")
    if num_classes is not None and num_classes < 1:
        raise UserError(f"num_classes must be at least 1, got {num_classes}")
    content = decode_utf8(path)
    rows = jsonl_rows(path, content) if suffix == ".jsonl" else _delimited_rows(path, content, suffix)
    wanted = [c for c in (text_column, pair_column, label_column) if c is not None]

    texts, pairs, raw_labels, lines = [], [], [], []
    for line, row in rows:
        missing = [c for c in wanted if c not in row]
        if missing:
            columns = ", ".join(map(str, row)) or "(none)"
            if suffix == ".jsonl":
                raise UserError(
                    f"{path.name} line {line}: column {missing[0]!r} is missing; columns are: {columns}"
                )
            raise UserError(
                f"{path.name}: column {missing[0]!r} is not in the header; columns are: {columns}"
            )
        texts.append(_text_value(path, line, row, text_column))
        if pair_column is not None:
            pairs.append(_text_value(path, line, row, pair_column))
        if label_column is not None:
            raw_labels.append(row[label_column])
        lines.append(line)
    if not texts:
        raise UserError(f"{path.name} has no examples")

    if label_column is None:
        labels, names = np.full(len(texts), UNLABELLED, np.int32), []
    else:
        labels, names = _label_ids(path, raw_labels, lines, label_column, label_names, num_classes)
    return TextExamples(texts, pairs if pair_column is not None else None, labels, names, source=str(path))


def decode_utf8(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(
            f"{path.name} line {line}, column {column}: byte 0x{raw[exc.start]:02x} is not UTF-8; "
            "save the file as UTF-8"
        ) from None


def _delimited_rows(path: Path, content: str, suffix: str) -> Iterator[tuple[int, dict[str, str]]]:
    if suffix == ".tsv":
        reader = csv.reader(io.StringIO(content, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{path.name} is empty; it needs a header row naming its columns") from None
    except csv.Error as exc:
        raise UserError(f"{path.name} line 1: {exc}") from None
    header = [h.strip() for h in header]
    line = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UserError(f"{path.name} line {reader.line_num}: {exc}") from None
        start, line = line + 1, reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise UserError(
                f"{path.name} line {start}: {len(values)} fields, but the header names {len(header)} "
                f"({', '.join(header)})"
            )
        yield start, dict(zip(header, values))


def jsonl_rows(path: Path, content: str) -> Iterator[tuple[int, dict[str, Any]]]:
    # Split on "\n" only: str.splitlines() would also split inside texts at U+2028 and friends.
    for line_number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise UserError(f"{path.name} line {line_number}: not valid JSON ({exc})") from None
        if not isinstance(row, dict):
            raise UserError(
                f"{path.name} line {line_number}: expected a JSON object, got {type(row).__name__}"
            )
        yield line_number, row


def _text_value(path: Path, line: int, row: dict, column: str) -> str:
    value = row[column]
    if not isinstance(value, str):
        raise UserError(f"{path.name} line {line}: column {column!r} must hold text, got {json.dumps(value)}")
    if not value.strip():
        raise UserError(f"{path.name} line {line}: column {column!r} is empty; every example needs text")
    return value


def _label_ids(
    path: Path,
    raw_labels: list[Any],
    lines: list[int],
    column: str,
    label_names: Sequence[str] | None,
    num_classes: int | None,
) -> tuple[np.ndarray, list[str]]:
    values = []
    for line, value in zip(lines, raw_labels):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise UserError(
                f"{path.name} line {line}: label {json.dumps(value)} must be an integer or a string"
            )
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise UserError(f"{path.name} line {line}: column {column!r} (the label) is empty")
        values.append(value)

    if label_names is not None:
        names = list(label_names)
        if num_classes is not None and len(names) != num_classes:
            raise UserError(
                f"label_names has {len(names)} names but num_classes is {num_classes}; give matching values"
            )
        index = {name: i for i, name in enumerate(names)}
        ids = []
        for line, value in zip(lines, values):
            if isinstance(value, str) and value in index:  # a name wins over reading "1" as an id
                ids.append(index[value])
            elif _is_integer(value):
                ids.append(_checked_id(path, line, int(value), len(names)))
            else:
                raise UserError(f"{path.name} line {line}: label {value!r} is not one of {', '.join(names)}")
        return np.array(ids, np.int32), names

    if all(_is_integer(v) for v in values):
        ids = [_checked_id(path, line, int(v), num_classes) for line, v in zip(lines, values)]
        if num_classes is None:
            # Ids name classes 0..n-1; a stray large id must not become a table of that size.
            distinct = sorted(set(ids))
            if distinct[-1] >= len(distinct):
                line = lines[ids.index(distinct[-1])]
                raise UserError(
                    f"{path.name} line {line}: label {distinct[-1]} is out of range: integer "
                    f"labels are class ids 0..n-1, and this file has {len(distinct)} distinct "
                    f"ones ({', '.join(map(str, distinct[:10]))}); renumber them or use names")
        count = num_classes if num_classes is not None else max(ids) + 1
        return np.array(ids, np.int32), [str(i) for i in range(count)]

    numbers = sorted({str(v) for v in values if _is_integer(v)})
    if numbers:
        words = sorted({str(v) for v in values if not _is_integer(v)})
        raise UserError(
            f"{path.name}: the labels mix integer ids ({', '.join(numbers[:5])}) and names "
            f"({', '.join(words[:5])}); use one kind, or give label names so ids map onto them")
    names = sorted({str(v) for v in values})
    if num_classes is not None and len(names) > num_classes:
        raise UserError(
            f"{path.name}: {len(names)} distinct labels ({', '.join(names[:10])}) "
            f"but num_classes is {num_classes}"
        )
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[str(v)] for v in values], np.int32), names


def _is_integer(value: int | str) -> bool:
    return isinstance(value, int) or bool(_INTEGER.match(value))


def _checked_id(path: Path, line: int, label: int, limit: int | None) -> int:
    if label < 0 or (limit is not None and label >= limit):
        allowed = f"0..{limit - 1}" if limit is not None else "0 or more"
        raise UserError(f"{path.name} line {line}: label {label} is out of range; allowed ids are {allowed}")
    return label
