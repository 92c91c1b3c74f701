"""Map Brown Corpus tags to the 12 universal part-of-speech tags (Petrov, Das & McDonald 2012).

The table is written from the Brown Corpus Manual's tag definitions (Francis & Kucera 1979),
choosing the universal tag the Penn Treebank mapping gives the same words where the two
tagsets overlap (e.g. existential *there* is DET, *not* is ADV, subordinating conjunctions
are ADP like Penn's IN, interjections are X). Compound tags are reduced before the lookup:

- `fw-...` (foreign word, whatever its tag after the prefix) is X;
- suffixes `-hl` (headline), `-tl` (title), `-nc` (cited word), also when truncated to `-n` /
  `-t` as a few corpus tokens are, are dropped: `nn-tl-hl` is `nn`;
- contractions joined with `+` take the first part's tag: `ppss+md` (*I'll*) is PRON,
  `vb+ppo` (*let's*) is VERB;
- a trailing `*` (negation fused to the word: `md*` *can't*, `bez*` *isn't*) and a trailing
  `$` (possessive: `nn$`, `np$`) are dropped, except in tags defined with them (`pp$`, `wp$`);
- anything still unknown (`nil`) is X.
"""

from __future__ import annotations

import functools
import re

UNIVERSAL_TAGS = ("NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "NUM", "CONJ", "PRT", ".", "X")

# Brown base tag -> universal tag, in the Brown Corpus Manual's order.
BROWN_TO_UNIVERSAL = {
    ".": ".",  # sentence closer . ; ? !
    "(": ".",
    ")": ".",
    "*": "ADV",  # not, n't
    "--": ".",
    ",": ".",
    ":": ".",
    "``": ".",
    "''": ".",
    "'": ".",
    "abl": "ADV",  # pre-qualifier: quite, rather
    "abn": "DET",  # pre-quantifier: half, all
    "abx": "DET",  # pre-quantifier / double conjunction: both
    "ap": "ADJ",  # post-determiner: many, several, next, last, other
    "at": "DET",  # article: a, the, no
    "be": "VERB",
    "bed": "VERB",
    "bedz": "VERB",
    "beg": "VERB",
    "bem": "VERB",
    "ben": "VERB",
    "ber": "VERB",
    "bez": "VERB",
    "cc": "CONJ",  # coordinating conjunction: and, or
    "cd": "NUM",  # cardinal numeral
    "cs": "ADP",  # subordinating conjunction: if, although (Penn: IN -> ADP)
    "do": "VERB",
    "dod": "VERB",
    "doz": "VERB",
    "dt": "DET",  # singular determiner: this, that
    "dti": "DET",  # singular or plural determiner: some, any
    "dts": "DET",  # plural determiner: these, those
    "dtx": "DET",  # determiner / double conjunction: either, neither
    "ex": "DET",  # existential there (Penn: EX -> DET)
    "hv": "VERB",
    "hvd": "VERB",
    "hvg": "VERB",
    "hvn": "VERB",
    "hvz": "VERB",
    "in": "ADP",  # preposition
    "jj": "ADJ",
    "jjr": "ADJ",
    "jjs": "ADJ",  # semantically superlative adjective: chief, top
    "jjt": "ADJ",
    "md": "VERB",  # modal auxiliary
    "nn": "NOUN",
    "nns": "NOUN",
    "np": "NOUN",  # proper noun
    "nps": "NOUN",
    "nr": "NOUN",  # adverbial noun: home, today, west
    "nrs": "NOUN",
    "od": "ADJ",  # ordinal numeral: first, 2nd (Penn: JJ -> ADJ)
    "pn": "PRON",  # nominal pronoun: everybody, nothing
    "pp$": "PRON",  # possessive personal pronoun: my, our
    "pp$$": "PRON",  # second possessive: mine, ours
    "ppl": "PRON",  # reflexive: myself
    "ppls": "PRON",  # plural reflexive: ourselves
    "ppo": "PRON",  # objective personal pronoun: me, him
    "pps": "PRON",  # 3rd singular nominative: he, she, it
    "ppss": "PRON",  # other nominative: I, we, they
    "ql": "ADV",  # qualifier: very, fairly
    "qlp": "ADV",  # post-qualifier: enough, indeed
    "rb": "ADV",
    "rbr": "ADV",
    "rbt": "ADV",
    "rn": "ADV",  # nominal adverb: here, then, indoors
    "rp": "PRT",  # adverb / particle: about, off, up
    "to": "PRT",  # infinitive marker
    "uh": "X",  # interjection (Penn: UH -> X)
    "vb": "VERB",
    "vbd": "VERB",
    "vbg": "VERB",
    "vbn": "VERB",
    "vbz": "VERB",
    "wdt": "DET",  # wh- determiner: what, which
    "wp$": "PRON",  # possessive wh- pronoun: whose
    "wpo": "PRON",  # objective wh- pronoun: whom
    "wps": "PRON",  # nominative wh- pronoun: who
    "wql": "ADV",  # wh- qualifier: how
    "wrb": "ADV",  # wh- adverb: how, when, where
}

_SUFFIXES = re.compile(r"(-(hl|tl?|nc?))+$")


def brown_base_tag(tag: str) -> str:
    """The Brown base tag a compound tag reduces to (`np-tl` -> `np`, `md*` -> `md`).

    Foreign-word tags keep their `fw-` prefix (they map to X).

    Args:
        tag: a Brown tag as in the corpus files (any case).
    """
    tag = tag.strip().lower()
    if tag.startswith("fw-"):
        return tag
    tag = _SUFFIXES.sub("", tag) or tag  # "--" itself must survive
    tag = tag.split("+", 1)[0]
    if tag in BROWN_TO_UNIVERSAL:
        return tag
    stripped = tag.rstrip("*$") or tag
    return stripped


@functools.lru_cache(maxsize=4096)  # the corpus has under 500 distinct tags and 1.16 M tokens
def brown_to_universal(tag: str) -> str:
    """The universal tag (one of `UNIVERSAL_TAGS`) for a Brown tag, compound tags included.

    Args:
        tag: a Brown tag as in the corpus files, e.g. `nn-tl`, `vbd-hl`, `md*`, `fw-in`.

    Examples:
    >>> [brown_to_universal(t) for t in ["nn-tl", "vbd-hl", "md*", "ppss+md", "fw-at", "*"]]
    ['NOUN', 'VERB', 'VERB', 'PRON', 'X', 'ADV']
    """
    base = brown_base_tag(tag)
    if base.startswith("fw-"):
        return "X"
    return BROWN_TO_UNIVERSAL.get(base, "X")
