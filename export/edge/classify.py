"""Classify text on a device with an albert_tf edge bundle: no TensorFlow, no albert_tf.

Needs only numpy, a TFLite interpreter (ai-edge-litert, or tflite-runtime on old boards) and
the model's tokenizer library (sentencepiece for `tokenizer.model`, tokenizers for
`vocab.txt`), plus `kit_common.py` beside this file. A bundle folder (written by
`albert_tf.deploy.kit_bundle.write_edge_bundle`) holds:

    model.tflite        token ids in (token_ids, segment_ids, padding_mask), probabilities out
    tokenizer.model     SentencePiece model, or vocab.txt (WordPiece vocabulary)
    label_names.json    class names in id order
    kit.json            sequence length, input names and order, special ids, tokenizer options

Tokenisation reproduces keras-hub's preprocessors exactly: `[CLS] A [SEP]` (pairs:
`[CLS] A [SEP] B [SEP]`), round-robin or waterfall truncation, padding to the fixed length,
segment ids (0 for A and its [SEP], 1 for B and its [SEP]) and `padding_mask = ids != pad`.

Usage:
    python classify.py BUNDLE_DIR "a gripping film" "dull and far too long"
    python classify.py BUNDLE_DIR --file reviews.txt --json
    python classify.py BUNDLE_DIR --pairs "premise<TAB>hypothesis"
    python classify.py BUNDLE_DIR --benchmark 200 --threads 2 "a gripping film"

Library use:
    >>> classifier = EdgeClassifier("bundle")  # doctest: +SKIP
    >>> classifier.classify(["a gripping film"])  # doctest: +SKIP
    [{'text': 'a gripping film', 'label': 'fresh', 'label_id': 0, 'probabilities': {...}}]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from kit_common import (  # noqa: F401  (re-exported: `from classify import ...` keeps working)
    EXIT_OK,
    EXIT_USAGE,
    KIT_FILE,
    SPEC_FIELDS,
    SUPPORTED_FORMAT,
    TEXT_CLASSIFICATION,
    BundleModel,
    KitError,
    SentencePieceIds,
    WordPieceIds,
    latency_summary,
    load_interpreter_class,
    pack,
    read_bundle_spec,
    read_lines,
    truncated_lengths,
)

BENCHMARK_TEXT = "A gripping, beautifully acted film that never lets go of you."


class EdgeClassifier(BundleModel):
    """A classification bundle's TFLite model with its tokenizer and labels.

    Args:
        bundle_dir: the bundle folder.
        num_threads: CPU threads for the interpreter.
        verify: check the model file's sha256 against kit.json (catches partial copies).
    """

    def __init__(self, bundle_dir, num_threads: int = 1, verify: bool = True):
        super().__init__(bundle_dir, TEXT_CLASSIFICATION, num_threads, verify)

    def encode(self, texts, pairs=None) -> dict[str, np.ndarray]:
        """Packed inputs `[n, sequence_length]` (int32) for texts (and their pairs)."""
        if pairs is not None and len(pairs) != len(texts):
            raise KitError(f"{len(texts)} texts but {len(pairs)} pairs: give one pair per text")
        rows = []
        for i, text in enumerate(texts):
            segments = [self.tokenize(text)]
            if pairs is not None:
                segments.append(self.tokenize(pairs[i]))
            rows.append(pack(segments, self.spec))
        return self.stack(rows)

    def probabilities(self, texts, pairs=None) -> np.ndarray:
        """Class probabilities `[n, classes]` of raw strings."""
        return self.run_packed(self.encode(texts, pairs))

    def classify(self, texts, pairs=None) -> list[dict]:
        """One dict per text: text, (pair,) label, label_id, probabilities by label name."""
        probabilities = self.probabilities(texts, pairs)
        results = []
        for i, row in enumerate(probabilities):
            label_id = int(np.argmax(row))
            result = {"text": texts[i]}
            if pairs is not None:
                result["pair"] = pairs[i]
            result.update(label=self.label_names[label_id], label_id=label_id,
                          probabilities={name: float(p) for name, p in zip(self.label_names, row)})
            results.append(result)
        return results

    def benchmark(self, text: str, runs: int, warmup: int = 5) -> dict:
        """Latency of one call (a batch of the model's size), after `warmup` untimed calls.

        Returns:
            median / p90 / mean / min in milliseconds, for the interpreter alone and for
            tokenisation plus interpreter ("end_to_end").
        """
        texts = [text] * self.batch_size
        for _ in range(warmup):
            self.probabilities(texts)
        packed = self.encode(texts)
        invoke, end_to_end = [], []
        for _ in range(runs):
            started = time.perf_counter()
            self.run_packed(packed)
            invoke.append((time.perf_counter() - started) * 1000.0)
            started = time.perf_counter()
            self.probabilities(texts)
            end_to_end.append((time.perf_counter() - started) * 1000.0)
        return {"runs": runs, "warmup_runs": warmup, "batch_size": self.batch_size,
                "interpreter_ms": latency_summary(invoke),
                "end_to_end_ms": latency_summary(end_to_end)}


# ---------------------------------------------------------------------------------------------
# Command line.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Classify texts with an albert_tf edge bundle (TFLite, no TensorFlow).")
    parser.add_argument("bundle", metavar="BUNDLE_DIR",
                        help="bundle folder: model.tflite, tokenizer, label_names.json, kit.json")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    parser.add_argument("--file", help="also classify every non-empty line of this UTF-8 file")
    parser.add_argument("--pairs", action="store_true",
                        help="each text is a pair 'first<TAB>second' (e.g. premise, hypothesis)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (runtime, results or benchmark)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads of the TFLite interpreter (default 1)")
    parser.add_argument("--benchmark", type=int, metavar="N", default=0,
                        help="latency mode: N timed runs after warm-up runs; prints median and "
                             "p90 in ms (uses the first text, or a built-in review)")
    parser.add_argument("--warmup", type=int, default=5,
                        help="untimed runs before a benchmark (default 5)")
    return parser


def _gather_texts(args) -> list[str]:
    return list(args.texts) + (read_lines(args.file) if args.file else [])


def _split_pairs(texts: list[str]) -> tuple[list[str], list[str]]:
    firsts, seconds = [], []
    for text in texts:
        if "\t" not in text:
            raise KitError(f"--pairs needs 'first<TAB>second' texts. Received: {text!r}")
        first, second = text.split("\t", 1)
        firsts.append(first)
        seconds.append(second)
    return firsts, seconds


def _print_results(results: list[dict]) -> None:
    for result in results:
        shown = result["text"] if "pair" not in result else f"{result['text']} | {result['pair']}"
        print(f"{result['label']}\t{result['probabilities'][result['label']]:.4f}\t{shown}")


def main(argv=None) -> int:
    args = build_parser().parse_intermixed_args(argv)
    try:
        if args.threads < 1:
            raise KitError(f"--threads must be >= 1. Received: {args.threads}")
        if args.benchmark < 0 or args.warmup < 0:
            raise KitError("--benchmark and --warmup must be >= 0")
        texts = _gather_texts(args)
        if not texts and not args.benchmark:
            raise KitError("no texts: give TEXT arguments or --file")
        classifier = EdgeClassifier(args.bundle, num_threads=args.threads)
        output = {"runtime": classifier.runtime, "bundle": str(classifier.bundle),
                  "mode": classifier.spec["mode"], "threads": args.threads}
        if args.benchmark:
            text = texts[0].split("\t", 1)[0] if texts else BENCHMARK_TEXT
            output["benchmark"] = classifier.benchmark(text, args.benchmark, args.warmup)
        else:
            pairs = None
            if args.pairs:
                texts, pairs = _split_pairs(texts)
            output["results"] = classifier.classify(texts, pairs)
    except KitError as exc:
        print(f"classify.py: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(output, ensure_ascii=False))
    elif args.benchmark:
        bench = output["benchmark"]
        print(f"{output['runtime']}, {output['mode']}, {args.threads} thread(s), batch "
              f"{bench['batch_size']}, {bench['runs']} runs after {bench['warmup_runs']} warm-up")
        for key in ("interpreter_ms", "end_to_end_ms"):
            stats = bench[key]
            print(f"{key[:-3]:<12} median {stats['median']:.2f} ms  p90 {stats['p90']:.2f} ms")
    else:
        _print_results(output["results"])
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
