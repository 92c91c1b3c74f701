"""Parse the snippets with human sentiment ratings from the VADER paper's data (Hutto and
Gilbert, ICWSM 2014): movie reviews, Amazon product reviews, New York Times editorials and
tweets, all in one tab-separated format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from albert_tf.data.examples import TextExamples, deduplicate

LABEL_NAMES = ["negative", "positive"]


def parse_vader_snippets(path: Path, source: str) -> TextExamples:
    """Read a `*_GroundTruth.txt` file: id, mean rating (-4..4), text; tab-separated.

    A snippet is positive when its mean rating is above 0 and negative below 0; the snippets
    rated exactly 0 are dropped, and so are duplicate texts. The file is UTF-8 (accented
    names such as "Lucía" decode correctly; latin-1 would turn them into mojibake).

    Args:
        path: the ground-truth .txt file.
        source: the name recorded on the examples.
    """
    texts, labels = [], []
    content = path.read_bytes().decode("utf-8")
    # Split on "\n" only: str.splitlines() would also break lines at characters like U+0085.
    for line_number, line in enumerate(content.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t", 2)
        if len(fields) != 3:
            raise ValueError(f"{path.name} line {line_number}: expected id, rating, text separated by tabs")
        rating = float(fields[1])
        if rating == 0:
            continue
        texts.append(fields[2].strip())
        labels.append(1 if rating > 0 else 0)
    return deduplicate(TextExamples(texts, None, np.array(labels, np.int32), LABEL_NAMES, source))
