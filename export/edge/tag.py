"""Tag words on a device with an albert_tf tagging bundle: no TensorFlow, no albert_tf.

Needs what `classify.py` needs (numpy, a TFLite interpreter, the tokenizer's library) and
`kit_common.py` beside this file. A tagging bundle (written by albert_tf's
`write_tagging_bundle`, or `albert-tf tag export MODEL --format edge`) holds:

    model.tflite        token ids in, per-token tag probabilities [1, sequence, tags] out
    tokenizer.model     SentencePiece model, or vocab.txt (WordPiece vocabulary)
    tag_names.json      tag names in id order
    kit.json            task "token-classification", sequence length, special and unknown
                        ids, tokenizer options

Raw sentences become word tags exactly as albert_tf's raw-text SavedModel tagger does: words
are split as `albert_tf.deploy.tagging_graph.split_words` splits them (whitespace, closing and
opening punctuation, Chinese characters as words of their own), each word is tokenised on its
own (a word with no token becomes the unknown token), `[CLS] tokens [SEP]` is cut at the
sequence length, and each word reads the tag at its first sub-token. Words that start beyond
the cut get no tag (None; `-` in the plain output), as in the SavedModel ("" there).

Usage:
    python tag.py BUNDLE_DIR "The dog barked." "She said it's over."
    python tag.py BUNDLE_DIR --file sentences.txt --json

Library use:
    >>> tagger = EdgeTagger("bundle")  # doctest: +SKIP
    >>> tagger.tag(["The dog barked."])  # doctest: +SKIP
    [{'text': 'The dog barked.', 'words': ['The', 'dog', 'barked', '.'],
      'tags': ['DET', 'NOUN', 'VERB', '.'], 'tag_ids': [...], 'scores': [...]}]
"""

from __future__ import annotations

import argparse
import json
import re
import sys

import numpy as np
from kit_common import (
    EXIT_OK,
    EXIT_USAGE,
    TOKEN_CLASSIFICATION,
    BundleModel,
    KitError,
    pack,
    read_lines,
)

# ---------------------------------------------------------------------------------------------
# Word splitting: albert_tf's `split_words` (TensorFlow's RE2 rules) in Python's `re`. RE2's
# `\s` is ASCII ([\t\n\f\r ]) and its `$` is the end of the text, so neither is written with
# Python's Unicode `\s` or `$`; `tf.strings.split` splits on ASCII whitespace, \v included.

# RE2's \p{Han} as TensorFlow's RE2 defines it (Unicode 15.0 script data, read code point by
# code point from tf.strings.regex_full_match).
_HAN_RANGES = (
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x3005, 0x3005), (0x3007, 0x3007),
    (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFA6D),
    (0xFA70, 0xFAD9), (0x16FE2, 0x16FE3), (0x16FF0, 0x16FF1), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B739), (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0),
    (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0x31350, 0x323AF),
)
# Han, CJK symbols and punctuation (U+3000-303F), full-width forms (U+FF00-FFEF).
_CJK_CHARACTER = "([" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _HAN_RANGES) \
    + "\u3000-\u303f\uff00-\uffef])"
_S = r"[\t\n\f\r ]"  # RE2's \s
_SPLIT_RULES = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (_CJK_CHARACTER, r" \1 "),
    (r'([^\t\n\f\r (".,;:!?)])([.,;:!?)"]+)(' + _S + r"|\Z)", r"\1 \2\3"),
    (r'([.,;:!?)"])([.,;:!?)"])', r"\1 \2"),
    (r'([.,;:!?)"])([.,;:!?)"])', r"\1 \2"),  # twice: each pass splits every other pair
    (r"(^|" + _S + r')([("]+)([^\t\n\f\r ])', r"\1\2 \3"),
    (r'([("])([("])', r"\1 \2"),
))
_WHITESPACE_RUN = re.compile(r"[\t\n\v\f\r ]+")


def split_words(text: str) -> list[str]:
    """Words of a raw sentence, as `albert_tf.deploy.tagging_graph.split_words` splits them.

    >>> split_words('Hello, world (again).')
    ['Hello', ',', 'world', '(', 'again', ')', '.']
    """
    for pattern, replacement in _SPLIT_RULES:
        text = pattern.sub(replacement, text)
    return [word for word in _WHITESPACE_RUN.split(text) if word]


# ---------------------------------------------------------------------------------------------
# The tagger.


class EdgeTagger(BundleModel):
    """A tagging bundle's TFLite model with its tokenizer and tag names.

    Args:
        bundle_dir: the bundle folder.
        num_threads: CPU threads for the interpreter.
        verify: check the model file's sha256 against kit.json (catches partial copies).
    """

    def __init__(self, bundle_dir, num_threads: int = 1, verify: bool = True):
        super().__init__(bundle_dir, TOKEN_CLASSIFICATION, num_threads, verify)
        unknown_id = self.spec["special_tokens"].get("unknown_id")
        if not isinstance(unknown_id, int) or isinstance(unknown_id, bool):
            raise KitError(f"{self.bundle / 'kit.json'} lacks special_tokens.unknown_id (int): "
                           "write the bundle anew with albert_tf's write_tagging_bundle")
        self.unknown_id = unknown_id

    def encode(self, sentences: list[list[str]]) -> tuple[dict[str, np.ndarray], list[list[int]]]:
        """Packed inputs `[n, sequence_length]` and each word's first sub-token position.

        Args:
            sentences: one list of words per sentence.

        Returns:
            `(packed, word_starts)`: word_starts holds, per sentence, a position per word,
            -1 for words that start beyond `sequence_length - 2` tokens.
        """
        budget = int(self.spec["sequence_length"]) - 2  # [CLS] and [SEP]
        rows, word_starts = [], []
        for words in sentences:
            tokens, starts = [], []
            for word in words:
                starts.append(len(tokens) + 1 if len(tokens) < budget else -1)
                tokens += self.tokenize(word) or [self.unknown_id]
            rows.append(pack([tokens], self.spec))
            word_starts.append(starts)
        return self.stack(rows), word_starts

    def word_probabilities(self, sentences: list[list[str]]) -> tuple[list[np.ndarray],
                                                                     list[list[int]]]:
        """Tag probabilities `[words, tags]` per sentence (rows of cut-off words are 0), and
        the word starts of `encode` (-1: cut off)."""
        packed, word_starts = self.encode(sentences)
        token_rows = self.run_packed(packed)
        rows = []
        for sentence, starts in zip(token_rows, word_starts):
            starts = np.asarray(starts, dtype=np.int64)
            rows.append(sentence[np.maximum(starts, 0)] * (starts >= 0)[:, None])
        return rows, word_starts

    def tag_words(self, sentences: list[list[str]]) -> list[dict]:
        """One dict per sentence of words: words, tags (None when cut off), tag_ids (-1
        there) and scores (the tag's probability, 0.0 there)."""
        results = []
        for words, rows, starts in zip(sentences, *self.word_probabilities(sentences)):
            ids = [int(row.argmax()) if start >= 0 else -1 for row, start in zip(rows, starts)]
            results.append({"words": list(words),
                            "tags": [self.label_names[i] if i >= 0 else None for i in ids],
                            "tag_ids": ids,
                            "scores": [float(row.max()) if i >= 0 else 0.0
                                       for row, i in zip(rows, ids)]})
        return results

    def tag(self, texts: list[str]) -> list[dict]:
        """One dict per raw sentence: text, words, tags, tag_ids, scores (see `tag_words`)."""
        results = self.tag_words([split_words(text) for text in texts])
        return [{"text": text, **result} for text, result in zip(texts, results)]


# ---------------------------------------------------------------------------------------------
# Command line.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Tag the words of sentences with an albert_tf tagging bundle (TFLite, no "
                    "TensorFlow).")
    parser.add_argument("bundle", metavar="BUNDLE_DIR",
                        help="tagging bundle folder: model.tflite, tokenizer, tag_names.json, "
                             "kit.json")
    parser.add_argument("texts", nargs="*", metavar="SENTENCE", help="sentences to tag")
    parser.add_argument("--file", help="also tag every non-empty line of this UTF-8 file")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (runtime, mode, results)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads of the TFLite interpreter (default 1)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_intermixed_args(argv)
    try:
        if args.threads < 1:
            raise KitError(f"--threads must be >= 1. Received: {args.threads}")
        texts = list(args.texts) + (read_lines(args.file) if args.file else [])
        if not texts:
            raise KitError("no sentences: give SENTENCE arguments or --file")
        tagger = EdgeTagger(args.bundle, num_threads=args.threads)
        results = tagger.tag(texts)
    except KitError as exc:
        print(f"tag.py: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"runtime": tagger.runtime, "bundle": str(tagger.bundle),
                          "mode": tagger.spec["mode"], "threads": args.threads,
                          "results": results}, ensure_ascii=False))
    else:
        for result in results:  # word/TAG, "-" for words past the sequence length
            print(" ".join(f"{word}/{tag if tag is not None else '-'}"
                           for word, tag in zip(result["words"], result["tags"])))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
