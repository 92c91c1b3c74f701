"""Train an ALBERT-compatible SentencePiece model with the sentencepiece trainer.

keras-hub's `AlbertTokenizer` expects the pieces `<pad>` (id 0), `<unk>` (id 1), `[CLS]`,
`[SEP]` and `[MASK]`; ALBERT's own vocabularies put `[CLS]`, `[SEP]`, `[MASK]` at ids 2, 3, 4,
and so does this trainer. They are control symbols, not user-defined ones: a user-defined piece
is matched inside text, and tensorflow-text's `FastSentencepieceTokenizer` (the TFLite kernel)
matches it only before normalising, so a typed "[CLS]" got one id in keras-hub and the
sentencepiece library and several in a raw-text TFLite graph; a control symbol is never matched
in text, by any of them. Text is lower-cased by the model's own normaliser (`nmt_nfkc_cf`,
NFKC plus case folding), so every runtime that loads the `.model` file (keras-hub, the
sentencepiece library, tensorflow-text in a TFLite graph) gives the same ids without a separate
lower-casing step.
"""

import io
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

SPECIAL_PIECES = ("[CLS]", "[SEP]", "[MASK]")


def train_sentencepiece(
    texts: Iterable[str],
    output_path: str | os.PathLike,
    vocab_size: int = 8000,
    model_type: str = "unigram",
    character_coverage: float = 0.9995,
    normalization: str = "nmt_nfkc_cf",
    seed: int = 0,
    add_dummy_prefix: bool = True,
    hard_vocab_limit: bool = True,
    max_piece_length: int = 16,
) -> Path:
    """Train a SentencePiece model on `texts` and write it atomically to `output_path`.

    Args:
        texts: training sentences (a source's training split only, never dev or test).
        output_path: where the `.model` file goes.
        vocab_size: number of pieces, special pieces included.
        model_type: "unigram" (ALBERT's choice) or "bpe".
        character_coverage: fraction of characters the vocabulary must cover.
        normalization: sentencepiece normalisation rule; the default folds case.
        seed: fixes the trainer's sampling so the same texts give the same model.
        add_dummy_prefix: prefix every text with a space, so a word gets the same `▁` piece
            at the start of a text as after a space. Turn it off for texts whose words are
            single characters (Chinese tagged per character): each character is then one
            piece, not `▁` plus the character.
        hard_vocab_limit: fail when the texts cannot fill `vocab_size` pieces; False makes it
            a cap (a character vocabulary has only as many pieces as characters).

    Returns:
        The path of the written model.

    Examples:
    >>> path = train_sentencepiece(["a good film", "a bad film"] * 50, "/tmp/spm.model",
    ...                            vocab_size=30)  # doctest: +SKIP
    """
    import sentencepiece as spm

    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise UserError("no training text for the tokenizer: give a source with non-empty texts")
    if vocab_size < 8:
        raise UserError(f"vocab_size must be at least 8. Received: vocab_size={vocab_size}")
    if model_type not in ("unigram", "bpe"):
        raise UserError(f"model_type must be 'unigram' or 'bpe'. Received: {model_type!r}")
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    logger.info("training a %d-piece %s SentencePiece model on %d texts",
                vocab_size, model_type, len(texts))
    buffer = io.BytesIO()
    spm.set_random_generator_seed(seed)
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts),
            model_writer=buffer,
            vocab_size=vocab_size,
            model_type=model_type,
            character_coverage=character_coverage,
            normalization_rule_name=normalization,
            pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
            pad_piece="<pad>", unk_piece="<unk>",
            control_symbols=list(SPECIAL_PIECES),
            num_threads=os.cpu_count() or 1,
            add_dummy_prefix=add_dummy_prefix,
            max_sentencepiece_length=max_piece_length,
            minloglevel=2,
            # Small corpora cannot fill a large vocabulary; fail loudly instead of silently
            # (unless the caller asks for a cap).
            hard_vocab_limit=hard_vocab_limit,
        )
    except RuntimeError as exc:
        limit = re.search(r"value <= (\d+)", str(exc))
        if limit:  # the usual cause: too little text for the vocabulary asked for
            raise UserError(f"sentencepiece could not train a {vocab_size}-piece model: the "
                            f"text allows at most {limit.group(1)} pieces; lower --vocab-size "
                            "or give more text") from None
        raise UserError(f"sentencepiece could not train a {vocab_size}-piece model: {exc}; "
                        "lower --vocab-size or give more text") from exc
    tmp = output_path.with_name(output_path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, output_path)
    return output_path


# Pieces a SentencePiece model holds besides characters: <pad>, <unk>, [CLS], [SEP], [MASK],
# and a margin.
_NON_CHARACTER_PIECES = 8
_MIN_COVERAGE = 0.98


def character_vocabulary(sentences, vocab_size: int) -> tuple[int, float]:
    """`(vocab_size, character_coverage)` for a vocabulary of single characters: at most
    `vocab_size` pieces, and a coverage that the most frequent characters that fit reach
    (at most SentencePiece's usual 0.9995); the rarer characters become `<unk>`.

    Args:
        sentences: lists of words (their characters are counted).
        vocab_size: the requested vocabulary size (a cap here).
    """
    from collections import Counter

    counts = Counter(char for words in sentences for word in words for char in word)
    fits = max(1, min(vocab_size, len(counts) + _NON_CHARACTER_PIECES) - _NON_CHARACTER_PIECES)
    frequencies = sorted(counts.values(), reverse=True)
    total = max(1, sum(frequencies))
    covered = sum(frequencies[:fits]) / total
    if covered < _MIN_COVERAGE:  # sentencepiece's own lower bound
        needed = next(k for k in range(1, len(frequencies) + 1)
                      if sum(frequencies[:k]) >= _MIN_COVERAGE * total)
        raise UserError(f"a character vocabulary of {vocab_size} pieces covers "
                        f"{covered:.1%} of the text's characters and sentencepiece needs "
                        f"{_MIN_COVERAGE:.0%}: set the vocabulary size to at least "
                        f"{needed + _NON_CHARACTER_PIECES}")
    return fits + _NON_CHARACTER_PIECES, min(0.9995, covered)


def words_are_characters(sentences, share: float = 0.95) -> bool:
    """True when at least `share` of the words are one character long (Chinese tagged per
    character), so the tokenizer should not spend a `▁` piece on each of them.

    Args:
        sentences: lists of words.
    """
    lengths = [len(word) for words in sentences for word in words]
    return bool(lengths) and sum(length == 1 for length in lengths) >= share * len(lengths)


def train_character_sentencepiece(sentences, output_path: str | os.PathLike,
                                  vocab_size: int = 8000, seed: int = 0) -> Path:
    """A SentencePiece model of single characters (Chinese): one piece per character, the
    `vocab_size` most frequent kept, no `▁` before a text. A text tokenised whole and the same
    text tokenised one character at a time (as a character tagger does) get the same ids, so
    a model pre-trained on running text fits a character-level tagger.

    Args:
        sentences: lists of words (characters, for a tagger; any split, for running text).
        output_path: where the `.model` file goes.
        vocab_size: the cap on pieces.
        seed: the trainer's seed.
    """
    characters = [[c for word in words for c in word if not c.isspace()] for words in sentences]
    size, coverage = character_vocabulary(characters, vocab_size)
    # Pieces of one character, and no spaces in the text: no `▁X` twin of a piece `X`.
    texts = ["".join(chars) for chars in characters if chars]
    return train_sentencepiece(texts, output_path, vocab_size=size, seed=seed,
                               character_coverage=coverage, add_dummy_prefix=False,
                               hard_vocab_limit=False, max_piece_length=1)


def is_character_text(texts, share: float = 0.5) -> bool:
    """True when at least `share` of the non-space characters of `texts` are CJK ideographs:
    text written without spaces between words, which gets a character vocabulary."""
    total = ideographs = 0
    for text in texts:
        for char in text:
            if char.isspace():
                continue
            total += 1
            ideographs += "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"
    return total > 0 and ideographs >= share * total
