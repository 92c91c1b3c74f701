"""Unlabelled documents for pre-training, each a list of segments (sentences) in their order.

Sentence-order prediction needs consecutive segments of one document, so every reader keeps
the document structure its source has:
  * `brown-corpus`: one document per corpus file (500), sentences in file order;
  * `peoples-daily`: one document per paragraph (a line of the corpus file);
  * a text-classification source (`rotten-tomatoes`, `movie-snippets`, `tfds:...`, a labelled
    `.csv` / `.tsv` / `.jsonl`): every training text is a document, cut into sentences;
  * a `.txt` file: one document per block of lines between blank lines;
  * an unlabelled `.jsonl` file: one document per row's `"text"`.

Sources a model may later be evaluated on give only text that no dev or test split of theirs
holds: the training split of a classification source, and for the tagged corpora the
sentences outside their tagging dev and test splits (and for Brown, outside its genre
classification dev and test splits too). A document whose held-out sentences are removed is
cut where they were, so no segment pair spans a gap. Sources overlap (movie-snippets and
rotten-tomatoes both come from Pang and Lee's review snippets), so the dev and test texts of
every classification source in the corpus, and of each `leave_out` source, are removed from
all the others too. Local `.txt` / unlabelled `.jsonl` files are the user's own text and are
used whole, less those texts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

# A sentence ends at . ! ? (with closing quotes or brackets) before whitespace, or at the
# full-width 。！？ of Chinese text, which no space follows.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|(?<=[。！？])[”’」』）]*")
CORPUS_FILE_SUFFIXES = (".txt", ".jsonl")


@dataclass
class Corpus:
    """Documents and where they came from.

    Args:
        documents: each document's segments (non-empty strings), in order.
        notes: one line per source: what was used of it, for the run's metrics.
    """

    documents: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def segment_count(self) -> int:
        return sum(len(d) for d in self.documents)

    def pair_documents(self) -> int:
        """Documents with two or more segments: the only ones that give sentence-order pairs."""
        return sum(1 for d in self.documents if len(d) >= 2)

    def texts(self) -> list[str]:
        """Every segment, for training a tokenizer."""
        return [s for d in self.documents for s in d]


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, each stripped; empty pieces dropped.

    Examples:
    >>> split_sentences("A fine film. It drags, though!  Still: see it")
    ['A fine film.', 'It drags, though!', 'Still: see it']
    >>> split_sentences("今天天气很好。我们去公园吧！")
    ['今天天气很好。', '我们去公园吧！']
    """
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start:match.end()])
        start = match.end()
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def load_corpus(sources: list[str], seed: int = 0, leave_out: list[str] = ()) -> Corpus:
    """The documents of every source, in the order given.

    Args:
        sources: named sources, `tfds:NAME`, or `.txt` / `.jsonl` / `.csv` / `.tsv` paths.
        seed: the split seed the held-out dev and test splits are made with (the same seed the
            fine-tuning runs evaluated afterwards use).
        leave_out: further classification sources whose dev and test texts no document may
            hold (the sources a model will be evaluated on that are not in the corpus).

    Raises:
        UserError: an unknown source, an unreadable file, or a corpus without any text.
    """
    if not sources:
        raise UserError("no corpus given: pass --corpus SOURCE (a named source, tfds:NAME, or a "
                        ".txt / .jsonl file)")
    corpus = Corpus()
    held_out = _held_out_texts([*sources, *leave_out], seed)
    for source in sources:
        documents, note = _read_source(str(source), seed)
        documents = _without(documents, held_out)
        logger.info("%s: %d documents, %d segments", source, len(documents),
                    sum(len(d) for d in documents))
        corpus.documents.extend(documents)
        corpus.notes.append(f"{source}: {note} ({len(documents):,} documents)")
    if not corpus.documents:
        raise UserError(f"the corpus {' + '.join(map(str, sources))} holds no text: give sources "
                        "with non-empty documents")
    return corpus


def _read_source(source: str, seed: int) -> tuple[list[list[str]], str]:
    from albert_tf.data.sources import NAMED_SOURCES
    from albert_tf.tagging.examples import BROWN, PEOPLES_DAILY

    if source == BROWN:
        return _brown_documents(seed), ("every corpus file a document, without the sentences "
                                        f"of the POS and genre dev/test splits (seed {seed})")
    if source == PEOPLES_DAILY:
        return _peoples_daily_documents(seed), ("every paragraph a document, without the "
                                                f"sentences of the NER dev/test splits (seed {seed})")
    path = Path(source).expanduser()
    if path.suffix.lower() == ".txt":
        return _txt_documents(path), "every blank-line-separated block a document, used whole"
    if path.suffix.lower() == ".jsonl" and path.is_file() and not _is_labelled_jsonl(path):
        return _jsonl_documents(path), "every row's text a document, used whole"
    if source in NAMED_SOURCES or source.startswith("tfds:") or path.suffix.lower() in (
            ".csv", ".tsv", ".jsonl") or path.exists():
        return _training_texts(source, seed), (
            f"training split only (seed {seed}); its dev and test texts left out")
    raise UserError(f"unknown corpus source {source!r}: use a named source "
                    f"({', '.join(n for n, s in NAMED_SOURCES.items() if s.kind != 'weights')}), "
                    "tfds:NAME, or a .txt / .jsonl / .csv / .tsv file")


def _is_classification_source(source: str) -> bool:
    from albert_tf.data.sources import NAMED_SOURCES
    from albert_tf.tagging.examples import BROWN, PEOPLES_DAILY

    if source in (BROWN, PEOPLES_DAILY):
        return False  # their held-out sentences are left out by their own readers
    if source in NAMED_SOURCES:
        return NAMED_SOURCES[source].kind == "text classification"
    path = Path(source).expanduser()
    if source.startswith("tfds:") or path.suffix.lower() in (".csv", ".tsv"):
        return True
    return path.suffix.lower() == ".jsonl" and path.is_file() and _is_labelled_jsonl(path)


def _held_out_texts(sources, seed: int) -> set[str]:
    """Normalised keys of the dev and test texts of every classification source named."""
    from albert_tf.data import normalized_text_key
    from albert_tf.data.spec import DataSpec, load_splits

    keys = set()
    for source in dict.fromkeys(map(str, sources)):
        if _is_classification_source(source):
            _, dev, test = load_splits(DataSpec(source=source, seed=seed))
            for part in (dev, test):
                pairs = part.pairs if part.pairs is not None else [None] * len(part.texts)
                for text, pair in zip(part.texts, pairs):
                    keys.add(normalized_text_key(text))
                    if pair:
                        keys.add(normalized_text_key(pair))
    return keys


def _without(documents: list[list[str]], held_out: set[str]) -> list[list[str]]:
    """Documents less every segment, and every document whose whole text, is held out."""
    from albert_tf.data import normalized_text_key

    kept = []
    for document in documents:
        segments = [s.strip() for s in document if s and s.strip()]
        if not segments or (held_out and normalized_text_key(" ".join(segments)) in held_out):
            continue
        if held_out:
            runs = _runs_outside([(normalized_text_key(s) in held_out, s) for s in segments])
            kept.extend(runs)
        else:
            kept.append(segments)
    return kept


def _training_texts(source: str, seed: int) -> list[list[str]]:
    """A classification source's training texts (a pair's two texts are one document)."""
    from albert_tf.data.spec import DataSpec, load_splits

    train, _, _ = load_splits(DataSpec(source=source, seed=seed))
    pairs = train.pairs if train.pairs is not None else [None] * len(train.texts)
    documents = []
    for text, pair in zip(train.texts, pairs):
        segments = split_sentences(text) + (split_sentences(pair) if pair else [])
        documents.append(segments)
    return documents


def _held_out_sentences(tagged_source: str, seed: int) -> set[tuple[str, ...]]:
    from albert_tf.tagging.examples import load_tagged, split_tagged

    _, dev, test = split_tagged(load_tagged(tagged_source), seed=seed)
    return {tuple(words) for words in list(dev.words) + list(test.words)}


def _runs_outside(sentences: list[tuple[bool, str]]) -> list[list[str]]:
    """Cut a sequence of `(held_out, text)` sentences at every held-out one: the runs between."""
    runs, current = [], []
    for held, text in sentences:
        if held:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(text)
    if current:
        runs.append(current)
    return runs


def _brown_documents(seed: int) -> list[list[str]]:
    from albert_tf.data import fetch_source, load_source, make_splits, normalized_text_key
    from albert_tf.data.brown_corpus import detokenize, read_brown_files

    held_out = _held_out_sentences("brown-corpus", seed)
    genre_splits = make_splits(load_source("brown-corpus", seed=seed), seed=seed)
    held_out_texts = {normalized_text_key(t) for part in (genre_splits.dev, genre_splits.test)
                      for t in part.texts}
    documents = []
    for sentences in read_brown_files(fetch_source("brown-corpus")):
        keyed = []
        for words in sentences:
            text = detokenize(words)
            held = normalized_text_key(text) in held_out_texts or tuple(words) in held_out
            keyed.append((held, text))
        documents.extend(_runs_outside(keyed))
    return documents


def _peoples_daily_documents(seed: int) -> list[list[str]]:
    from albert_tf.data import fetch_source
    from albert_tf.data.peoples_daily import read_paragraph_sentences

    held_out = {"".join(words) for words in _held_out_sentences("peoples-daily", seed)}
    documents = []
    for paragraph in read_paragraph_sentences(Path(fetch_source("peoples-daily"))):
        documents.extend(_runs_outside([(text in held_out, text) for text in paragraph]))
    return documents


def _read_text(path: Path) -> str:
    from albert_tf.data.local_files import decode_utf8

    if not path.is_file():
        raise UserError(f"corpus file not found: {path}")
    return decode_utf8(path)


def _txt_documents(path: Path) -> list[list[str]]:
    documents = []
    for block in re.split(r"\n[ \t\r]*\n", _read_text(path)):
        segments = [s for line in block.split("\n") for s in split_sentences(line)]
        if segments:
            documents.append(segments)
    return documents


def _jsonl_rows(path: Path):
    from albert_tf.data.local_files import jsonl_rows

    return jsonl_rows(path, _read_text(path))


def _is_labelled_jsonl(path: Path) -> bool:
    """A `.jsonl` file with labels is a classification data set: only its training split."""
    for _, row in _jsonl_rows(path):
        return "label" in row
    return False


def _jsonl_documents(path: Path) -> list[list[str]]:
    documents = []
    for number, row in _jsonl_rows(path):
        text = row.get("text")
        if not isinstance(text, str):
            raise UserError(f"{path}:{number}: expected a string \"text\" field, the document")
        documents.append(split_sentences(text))
    return documents
