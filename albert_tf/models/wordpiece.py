"""WordPiece tokenizers normalise text the way their vocabulary was trained.

keras-hub builds a `BertTokenizer` from a Hugging Face folder with `lowercase=do_lower_case`
only, so `strip_accents` keeps its default, False. BERT's `BasicTokenizer` strips accents
whenever it lower-cases unless `strip_accents` says otherwise, and uncased vocabularies hold no
accented piece: with keras-hub's default "Café naïve résumé" is `[UNK] [UNK] [UNK]`.
`load_wordpiece_tokenizer` is the one place that decides; the model factory, saved classifiers
and token classifiers go through it.
"""

from __future__ import annotations

import json
import logging
import os
import unicodedata
from pathlib import Path

logger = logging.getLogger(__name__)

HF_TOKENIZER_FILE = "tokenizer.json"
HF_TOKENIZER_CONFIG_FILE = "tokenizer_config.json"


def _hugging_face_normalization(folder: Path) -> dict | None:
    """`{lowercase, strip_accents}` from a Hugging Face tokenizer's own files, else None."""
    path = folder / HF_TOKENIZER_FILE
    if path.is_file():
        try:
            normalizer = json.loads(path.read_text(encoding="utf-8")).get("normalizer") or {}
        except (OSError, ValueError, AttributeError):
            normalizer = {}
        if normalizer.get("type") == "BertNormalizer":
            lowercase = bool(normalizer.get("lowercase", True))
            strip = normalizer.get("strip_accents")
            return {"lowercase": lowercase, "strip_accents": lowercase if strip is None else bool(strip)}
    path = folder / HF_TOKENIZER_CONFIG_FILE
    if path.is_file():
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(config, dict) and "do_lower_case" in config:
            lowercase = bool(config["do_lower_case"])
            strip = config.get("strip_accents")
            return {"lowercase": lowercase, "strip_accents": lowercase if strip is None else bool(strip)}
    return None


def _vocabulary_has_marks(vocabulary) -> bool:
    """True when some piece carries a combining mark (after NFD): the vocabulary was built
    from text whose accents were kept."""
    return any(unicodedata.category(c) == "Mn"
               for piece in vocabulary for c in unicodedata.normalize("NFD", str(piece)))


def _trained_strip_accents(tokenizer, folder: Path | None) -> bool:
    """Whether the vocabulary was trained on text with its accents stripped."""
    if folder is not None:
        from_files = _hugging_face_normalization(folder)
        if from_files is not None and from_files["lowercase"] == bool(tokenizer.lowercase):
            return from_files["strip_accents"]
    if tokenizer.strip_accents or not tokenizer.lowercase:
        return bool(tokenizer.strip_accents)
    # A saved keras-hub config cannot tell "False" from "not set": a lower-cased vocabulary
    # without a single accented piece was built from accent-stripped text (BERT's rule).
    return not _vocabulary_has_marks(tokenizer.get_vocabulary())


def load_wordpiece_tokenizer(folder: str | os.PathLike | None = None, tokenizer=None):
    """The WordPiece tokenizer of a preset folder, normalising text as its vocabulary was trained.

    Reads the Hugging Face `tokenizer.json` / `tokenizer_config.json` when the folder has them
    (BERT's rule: accents are stripped when lower-casing unless `strip_accents` is set), else
    keeps a saved keras-hub setting, except that a lower-cased vocabulary with no accented
    piece gets `strip_accents=True` (keras-hub's conversion dropped it). Other tokenizers
    (SentencePiece) are returned unchanged.

    Args:
        folder: a keras-hub preset folder or a Hugging Face model folder.
        tokenizer: the tokenizer keras-hub built while loading a task from `folder`; it is
            corrected in place and returned. Default: loaded from `folder`.

    Returns:
        The tokenizer (a `keras_hub.models.BertTokenizer` for WordPiece vocabularies).

    Examples:
    >>> tokenizer = load_wordpiece_tokenizer(fetch_source("minilm-teacher"))  # doctest: +SKIP
    >>> tokenizer.strip_accents  # doctest: +SKIP
    True
    """
    import keras_hub

    folder = None if folder is None else Path(folder)
    if tokenizer is None:
        if folder is None:
            raise ValueError("load_wordpiece_tokenizer needs a folder or a tokenizer")
        tokenizer = keras_hub.models.BertTokenizer.from_preset(str(folder))
    if not isinstance(tokenizer, keras_hub.tokenizers.WordPieceTokenizer):
        return tokenizer
    strip = _trained_strip_accents(tokenizer, folder)
    if strip != bool(tokenizer.strip_accents):
        logger.info("WordPiece tokenizer%s: strip_accents=%s, as its vocabulary was trained "
                    "(lowercase=%s)", f" of {folder}" if folder else "", strip,
                    tokenizer.lowercase)
        tokenizer.strip_accents = strip  # read when the tokenizer traces; saved by get_config
    return tokenizer
