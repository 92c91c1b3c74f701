"""`load_source`: one entry point for named sources, local files, tfds and their combinations."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from albert_tf.data.brown_corpus import detokenize, read_brown_sentences
from albert_tf.data.examples import TextExamples, concatenate, deduplicate
from albert_tf.data.fetch import fetch_source
from albert_tf.data.local_files import FILE_SUFFIXES, read_text_file
from albert_tf.data.sources import NAMED_SOURCES
from albert_tf.data.tfds_source import TFDS_PREFIX, load_tfds
from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

SOURCE_SEPARATOR = "+"


def load_source(
    name: str | os.PathLike,
    *,
    text_column: str | None = None,
    pair_column: str | None = None,
    label_column: str | None = None,
    label_names: Sequence[str] | None = None,
    num_classes: int | None = None,
    seed: int = 0,
) -> TextExamples:
    """Load labelled examples from a named source, a local file, a tfds data set, or several.

    Whatever the source, the result is de-duplicated: one example per text after normalising
    case and whitespace, and texts whose copies carry different labels are dropped.

    Args:
        name: one of
            - a named source: `"rotten-tomatoes"`, `"movie-snippets"`, `"brown-corpus"`
              (sentences labelled with 15 genres); fetched into the cache on first use;
            - a path to a `.csv`, `.tsv` or `.jsonl` file;
            - `"tfds:NAME"`, e.g. `"tfds:glue/sst2"` (needs `albert_tf[tfds]` and a network);
            - several of these joined with `+` (`"rotten-tomatoes+movie-snippets"`):
              concatenated, then duplicates across them removed. All must share label names.
        text_column: files: the text column (default `"text"`); tfds: the text feature
            (default: the first of sentence, text, sentence1, question, premise...).
        pair_column: the second text of a pair (files: default none; tfds: the text
            feature's usual partner such as sentence2).
        label_column: the label column / feature (default `"label"`).
        label_names: files: names of label ids 0..n-1, e.g. from `load_label_map`, so a new
            file gets the ids an earlier one got.
        num_classes: files: integer labels must be below this.
        seed: tfds: seed for carving dev from train where the source has no labelled dev.

    Raises:
        UserError: unknown source, a missing file or column, bad content (see the readers),
            or sources whose labels differ.

    Examples:
    >>> examples = load_source("rotten-tomatoes+movie-snippets")  # doctest: +SKIP
    >>> examples.label_names  # doctest: +SKIP
    ['negative', 'positive']
    """
    name = os.fspath(name)
    options = dict(
        text_column=text_column,
        pair_column=pair_column,
        label_column=label_column,
        label_names=label_names,
        num_classes=num_classes,
        seed=seed,
    )
    if Path(name).is_file():  # a file whose name contains "+" is still one file
        return deduplicate(_load_one(name, options))
    parts = [part.strip() for part in name.split(SOURCE_SEPARATOR)]
    if not all(parts):
        raise UserError(f"source {name!r} has an empty part; join sources as NAME+NAME")
    loaded = [_load_one(part, options) for part in parts]
    if len(loaded) == 1:
        return deduplicate(loaded[0])
    combined = concatenate(loaded)
    logger.info(
        "%s: %d examples after combining %s", combined.source, len(combined), [len(p) for p in loaded]
    )
    return combined


def load_brown_sentences(tagset: str = "brown") -> list[tuple[list[str], list[str]]]:
    """The Brown Corpus as 57,340 tagged sentences `(words, tags)`, fetched on first use.

    Args:
        tagset: `"brown"` for the corpus' own tags (lower case, e.g. `np-tl`), `"universal"`
            for the 12 universal tags (see `albert_tf.data.brown_universal_tags`).
    """
    return read_brown_sentences(fetch_source("brown-corpus"), tagset=tagset)


def load_peoples_daily() -> list[tuple[list[str], list[str]]]:
    """People's Daily (January 1998) as character-level NER sentences `(characters, BIO tags)`
    over PER / LOC / ORG, fetched on first use (see `albert_tf.data.peoples_daily`)."""
    from albert_tf.data.peoples_daily import read_peoples_daily

    return read_peoples_daily(fetch_source("peoples-daily"))


def brown_texts() -> list[str]:
    """The Brown Corpus' sentences as plain text (tags stripped), e.g. unlabelled text for
    distillation. Every sentence, in corpus order, duplicates included."""
    return [detokenize(words) for words, _ in load_brown_sentences()]


def _load_one(part: str, options: dict) -> TextExamples:
    if part in NAMED_SOURCES:
        source = NAMED_SOURCES[part]
        if source.kind == "weights":
            raise UserError(
                f"{part!r} is model weights, not a data set; get its folder with fetch_source({part!r})"
            )
        if source.parse is None:
            raise UserError(
                f"{part!r} is a {source.kind} for token classification, not a text-classification "
                f"data set; read it with load_tagged({part!r}) or `albert-tf tag`"
            )
        given = [
            k
            for k in ("text_column", "pair_column", "label_column", "label_names", "num_classes")
            if options[k] is not None
        ]
        if given:
            raise UserError(
                f"{', '.join(given)}: only for files and tfds sources, not for the named source {part!r}"
            )
        return source.parse(fetch_source(part))
    if part.startswith(TFDS_PREFIX):
        if options["label_names"] is not None or options["num_classes"] is not None:
            raise UserError(
                "label_names and num_classes apply to files; tfds sources bring their own label names"
            )
        return load_tfds(
            part,
            text_column=options["text_column"],
            pair_column=options["pair_column"],
            label_column=options["label_column"],
            seed=options["seed"],
        )
    path = Path(part).expanduser()
    if path.suffix.lower() in FILE_SUFFIXES or path.exists() or os.sep in part:
        return read_text_file(
            path,
            text_column=options["text_column"] or "text",
            pair_column=options["pair_column"],
            label_column=options["label_column"] or "label",
            label_names=options["label_names"],
            num_classes=options["num_classes"],
        )
    data_sets = [n for n, s in NAMED_SOURCES.items() if s.parse is not None]
    raise UserError(
        f"unknown source {part!r}: use a named source ({', '.join(data_sets)}), a .csv/.tsv/.jsonl file, "
        f"or tfds:NAME; join several with '+'"
    )
