"""Classify text on a device with an albert_tf edge bundle: no TensorFlow, no albert_tf.

Needs only numpy, a TFLite interpreter (ai-edge-litert, or tflite-runtime on old boards) and
the model's tokenizer library (sentencepiece for `tokenizer.model`, tokenizers for
`vocab.txt`). A bundle folder (written by `albert_tf.deploy.kit_bundle.write_edge_bundle`)
holds:

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
import hashlib
import json
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

KIT_FILE = "kit.json"
SUPPORTED_FORMAT = 1
EXIT_OK, EXIT_USAGE = 0, 2
BENCHMARK_TEXT = "A gripping, beautifully acted film that never lets go of you."


class KitError(Exception):
    """Something the user can fix (a missing file, a bundle the runtime cannot run, ...)."""


# ---------------------------------------------------------------------------------------------
# TFLite runtime: ai-edge-litert, falling back to tflite-runtime.


def load_interpreter_class():
    """`(Interpreter class, "package version")` of the first installed TFLite runtime."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, f"ai-edge-litert {_package_version('ai-edge-litert')}"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, f"tflite-runtime {_package_version('tflite-runtime')}"
    except ImportError as exc:
        raise KitError("no TFLite runtime installed: pip install -r requirements.txt "
                       "(ai-edge-litert), or requirements-tflite-runtime.txt on boards without "
                       f"ai-edge-litert wheels ({exc})") from exc


def _package_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # metadata missing (vendored copy): the name still says which runtime
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Tokenizers: the same ids as keras-hub's SentencePiece and WordPiece tokenizers.


class SentencePieceIds:
    """keras-hub `SentencePieceTokenizer` / `AlbertTokenizer`: the `.model`'s own ids.

    The `.model` carries its normaliser (albert_tf's use `nmt_nfkc_cf`, which folds case), so no
    lower-casing happens here; keras-hub adds no BOS/EOS and does not sample.

    Args:
        model_file: the SentencePiece `.model` file.
    """

    def __init__(self, model_file: Path):
        try:
            import sentencepiece
        except ImportError as exc:
            raise KitError("this bundle has a SentencePiece tokenizer: pip install "
                           f"sentencepiece ({exc})") from exc
        self._processor = sentencepiece.SentencePieceProcessor(model_proto=model_file.read_bytes())

    def __call__(self, text: str) -> list[int]:
        return list(self._processor.encode(text, out_type=int))


# keras-hub's WordPiece splitting (`pretokenize_python`), written with the standard library:
# whitespace and control / format characters separate words and are dropped; punctuation and
# CJK ideographs separate words and are kept as words of their own.
_WHITESPACE = frozenset(" \t\n\r\f")
_ASCII_PUNCTUATION = frozenset(chr(c) for c in [*range(0x21, 0x30), *range(0x3A, 0x41),
                                                 *range(0x5B, 0x61), *range(0x7B, 0x7F)])
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
               (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
# Unicode Default_Ignorable_Code_Point, dropped by NFKC_Casefold (tf_text.case_fold_utf8).
_DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
# tf_text.FastWordpieceTokenizer maps words longer than this many UTF-8 bytes to the OOV token.
_MAX_BYTES_PER_WORD = 100


def _is_dropped_separator(char: str) -> bool:
    return char in _WHITESPACE or unicodedata.category(char) in ("Cc", "Cf")


def _is_kept_separator(char: str, split_on_cjk: bool) -> bool:
    if char in _ASCII_PUNCTUATION or unicodedata.category(char).startswith("P"):
        return True
    code = ord(char)
    return split_on_cjk and any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def _case_fold(text: str) -> str:
    """NFKC_Casefold, as `tf_text.case_fold_utf8` (and keras-hub's `casefold_utf8`)."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in text
                   if not any(lo <= ord(c) <= hi for lo, hi in _DEFAULT_IGNORABLE_RANGES))


class WordPieceIds:
    """keras-hub `WordPieceTokenizer` (BERT family): split, normalise, then WordPiece.

    Words are split and normalised here exactly as keras-hub does; the greedy longest-match
    WordPiece lookup runs in the `tokenizers` library.

    Args:
        vocab_file: `vocab.txt`, one token per line, line number = id.
        options: the `tokenizer` entry of kit.json (lowercase, strip_accents, split,
            split_on_cjk, suffix_indicator, oov_token, special_tokens).
    """

    def __init__(self, vocab_file: Path, options: dict):
        try:
            from tokenizers.models import WordPiece
        except ImportError as exc:
            raise KitError("this bundle has a WordPiece vocabulary: pip install tokenizers "
                           f"({exc})") from exc
        vocabulary = vocab_file.read_text(encoding="utf-8").split("\n")
        if vocabulary and vocabulary[-1] == "":
            vocabulary.pop()
        self._ids = {token: i for i, token in enumerate(vocabulary)}  # later duplicates win
        self.lowercase = bool(options.get("lowercase", False))
        self.strip_accents = bool(options.get("strip_accents", True))
        self.split = bool(options.get("split", True))
        self.split_on_cjk = bool(options.get("split_on_cjk", True))
        self.special_tokens = tuple(options.get("special_tokens") or ())
        oov_token = options.get("oov_token", "[UNK]")
        if oov_token not in self._ids:
            raise KitError(f"{vocab_file} lacks the OOV token {oov_token!r}: not the bundle's "
                           "vocabulary")
        self._oov_id = self._ids[oov_token]
        # The byte limit is applied in `_word_ids` (keras-hub counts bytes, tokenizers chars).
        self._wordpiece = WordPiece(vocab=self._ids, unk_token=oov_token,
                                    continuing_subword_prefix=options.get("suffix_indicator", "##"),
                                    max_input_chars_per_word=1 << 30)

    def words(self, text: str) -> list[str]:
        """keras-hub's pre-tokenisation of one string."""
        if self.strip_accents:
            text = "".join(c for c in unicodedata.normalize("NFD", text)
                           if unicodedata.category(c) != "Mn")
        if not self.split:
            words = [text]
        else:
            words = []
            for piece, is_special in self._special_pieces(text):
                if is_special:
                    words.append(piece)
                    continue
                current = []
                for char in piece:
                    dropped = _is_dropped_separator(char)
                    if dropped or _is_kept_separator(char, self.split_on_cjk):
                        if current:
                            words.append("".join(current))
                            current = []
                        if not dropped:
                            words.append(char)
                    else:
                        current.append(char)
                if current:
                    words.append("".join(current))
        if self.lowercase:
            words = [w if w in self.special_tokens else _case_fold(w) for w in words]
        return words

    def _special_pieces(self, text: str):
        """`(piece, is_special_token)` with special tokens cut out (only when configured)."""
        if not self.special_tokens:
            yield text, False
            return
        position = 0
        while position < len(text):
            found = [(text.find(t, position), -len(t), t) for t in self.special_tokens]
            found = [f for f in found if f[0] >= 0]
            if not found:
                break
            start, _, token = min(found)  # leftmost, then longest
            if start > position:
                yield text[position:start], False
            yield token, True
            position = start + len(token)
        if position < len(text):
            yield text[position:], False

    def _word_ids(self, word: str) -> list[int]:
        if not word:
            return []
        if len(word.encode("utf-8")) > _MAX_BYTES_PER_WORD:
            return [self._oov_id]
        return [token.id for token in self._wordpiece.tokenize(word)]

    def __call__(self, text: str) -> list[int]:
        ids = []
        for word in self.words(text):
            ids.extend(self._word_ids(word))
        return ids


# ---------------------------------------------------------------------------------------------
# Packing: keras-hub's MultiSegmentPacker for one or two segments.


def truncated_lengths(lengths: list[int], budget: int, truncate: str) -> list[int]:
    """How many tokens of each segment fit in `budget` (tf_text's RoundRobin / Waterfall).

    Args:
        lengths: token counts of the segments (one or two).
        budget: tokens available after the special tokens.
        truncate: "round_robin" (one token per segment in turn) or "waterfall" (first
            segments first).
    """
    if truncate == "waterfall" or len(lengths) == 1:
        taken = []
        for length in lengths:
            taken.append(min(length, budget))
            budget -= taken[-1]
        return taken
    first, second = lengths
    take_first = min(first, max((budget + 1) // 2, budget - second))
    return [take_first, min(second, budget - take_first)]


def pack(segments: list[list[int]], spec: dict) -> dict[str, np.ndarray]:
    """`token_ids`, `segment_ids`, `padding_mask` (int32, `[sequence_length]`) of one example.

    Args:
        segments: token ids of the text (and of its pair).
        spec: kit.json (sequence_length, special_tokens, truncate).
    """
    length = int(spec["sequence_length"])
    special = spec["special_tokens"]
    start_id, end_id, pad_id = special["start_id"], special["end_id"], special["pad_id"]
    budget = length - 1 - len(segments)  # [CLS] plus one [SEP] after each segment
    taken = truncated_lengths([len(s) for s in segments], budget, spec["truncate"])
    token_ids, segment_ids = [start_id], [0]
    for index, (segment, take) in enumerate(zip(segments, taken)):
        token_ids += list(segment[:take]) + [end_id]
        segment_ids += [index] * (take + 1)
    padding = length - len(token_ids)
    token_ids = np.asarray(token_ids + [pad_id] * padding, dtype=np.int32)
    segment_ids = np.asarray(segment_ids + [0] * padding, dtype=np.int32)
    return {"token_ids": token_ids, "segment_ids": segment_ids,
            "padding_mask": (token_ids != pad_id).astype(np.int32)}


# ---------------------------------------------------------------------------------------------
# The classifier.


# The kit.json fields this script reads, with their JSON types.
SPEC_FIELDS = {"model_file": str, "model_sha256": str, "label_names_file": str,
               "signature": str, "inputs": list, "output": str, "mode": str,
               "sequence_length": int, "special_tokens": dict, "truncate": str,
               "tokenizer": dict}


def read_bundle_spec(bundle: Path) -> dict:
    """kit.json of a bundle folder, checked for the fields this script relies on."""
    path = bundle / KIT_FILE
    if not path.is_file():
        raise KitError(f"{path} not found: BUNDLE_DIR must be a folder written by albert_tf's "
                       "write_edge_bundle (model.tflite, tokenizer, label_names.json, kit.json)")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise KitError(f"{path} is not valid JSON ({exc}): copy the bundle again") from None
    if not isinstance(spec, dict):
        raise KitError(f"{path} must hold a JSON object. Received: {type(spec).__name__}")
    if spec.get("format") != SUPPORTED_FORMAT:
        raise KitError(f"{path} has bundle format {spec.get('format')!r}; this classify.py "
                       f"reads format {SUPPORTED_FORMAT}: use the kit from the same albert_tf")
    wrong = [f"{key} ({kind.__name__})" for key, kind in SPEC_FIELDS.items()
             if not isinstance(spec.get(key), kind) or isinstance(spec.get(key), bool)]
    tokenizer = spec.get("tokenizer")
    if isinstance(tokenizer, dict):
        wrong += [f"tokenizer.{key} (str)" for key in ("kind", "file")
                  if not isinstance(tokenizer.get(key), str)]
    if wrong:
        raise KitError(f"{path} lacks or mistypes {', '.join(wrong)}: copy the bundle again, "
                       "or write it anew with albert_tf's write_edge_bundle")
    return spec


class EdgeClassifier:
    """A bundle's TFLite model with its tokenizer and labels.

    Args:
        bundle_dir: the bundle folder.
        num_threads: CPU threads for the interpreter.
        verify: check the model file's sha256 against kit.json (catches partial copies).
    """

    def __init__(self, bundle_dir, num_threads: int = 1, verify: bool = True):
        self.bundle = Path(bundle_dir)
        self.spec = read_bundle_spec(self.bundle)
        self.label_names = json.loads(
            (self.bundle / self.spec["label_names_file"]).read_text(encoding="utf-8"))
        model_path = self.bundle / self.spec["model_file"]
        content = model_path.read_bytes()
        if verify and hashlib.sha256(content).hexdigest() != self.spec["model_sha256"]:
            raise KitError(f"{model_path} does not match kit.json's sha256: the copy is "
                           "incomplete or the file belongs to another bundle")
        self.tokenize = self._tokenizer()
        interpreter_class, self.runtime = load_interpreter_class()
        try:
            self.interpreter = interpreter_class(model_content=content, num_threads=num_threads)
            self._runner = self.interpreter.get_signature_runner(self.spec["signature"])
            details = self._runner.get_input_details()
        except (RuntimeError, ValueError) as exc:
            raise KitError(self._runtime_advice(exc)) from exc
        self._input_dtypes = {name: details[name]["dtype"] for name in self.spec["inputs"]}
        self.batch_size = int(details[self.spec["inputs"][0]]["shape"][0])
        self._output = self.spec["output"]
        self._output_quantization = self._runner.get_output_details()[self._output]["quantization"]

    def _tokenizer(self):
        options = self.spec["tokenizer"]
        path = self.bundle / options["file"]
        if options["kind"] == "sentencepiece":
            return SentencePieceIds(path)
        if options["kind"] == "wordpiece":
            return WordPieceIds(path, options)
        raise KitError(f"unknown tokenizer kind {options['kind']!r} in kit.json: expected "
                       "sentencepiece or wordpiece")

    def _runtime_advice(self, error: Exception) -> str:
        message = f"{self.runtime} cannot run {self.spec['model_file']} " \
                  f"({self.spec['mode']}): {error}".strip()
        if self.runtime.startswith("tflite-runtime"):
            message += ("; tflite-runtime 2.14 runs the float32 and float16 bundles, not "
                        "dynamic-int8 / int8 ones from today's converter: copy a float32 or "
                        "float16 bundle, or install ai-edge-litert")
        return message

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
        length = int(self.spec["sequence_length"])
        return {name: (np.stack([row[name] for row in rows]) if rows
                       else np.zeros((0, length), np.int32)) for name in self.spec["inputs"]}

    def run_packed(self, packed: dict[str, np.ndarray]) -> np.ndarray:
        """Probabilities `[n, classes]` of packed inputs, in batches of the model's size."""
        n = len(packed[self.spec["inputs"][0]])
        parts = []
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            feed = {}
            for name, dtype in self._input_dtypes.items():
                values = packed[name][start:stop].astype(dtype)
                if stop - start < self.batch_size:  # the signature's batch size is fixed
                    filler = np.repeat(values[-1:], self.batch_size - (stop - start), axis=0)
                    values = np.concatenate([values, filler])
                feed[name] = values
            try:
                output = self._runner(**feed)[self._output]
            except RuntimeError as exc:
                raise KitError(self._runtime_advice(exc)) from exc
            parts.append(self._dequantize(output)[:stop - start])
        return np.concatenate(parts) if parts else np.zeros((0, len(self.label_names)), np.float32)

    def _dequantize(self, values: np.ndarray) -> np.ndarray:
        if np.issubdtype(values.dtype, np.integer):  # int8 output of a full-integer model
            scale, zero_point = self._output_quantization
            return (values.astype(np.float32) - zero_point) * scale
        return values.astype(np.float32)

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
                "interpreter_ms": _summary(invoke), "end_to_end_ms": _summary(end_to_end)}


def _summary(times_ms: list[float]) -> dict:
    values = np.asarray(times_ms)
    return {"median": round(float(np.median(values)), 3),
            "p90": round(float(np.percentile(values, 90)), 3),
            "mean": round(float(values.mean()), 3), "min": round(float(values.min()), 3)}


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
    texts = list(args.texts)
    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise KitError(f"--file {path}: no such file")
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


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
