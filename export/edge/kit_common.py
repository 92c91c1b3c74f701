"""What the edge kit's scripts share: kit.json, the TFLite runtime, the tokenizers, packing.

`classify.py` (text classification) and `tag.py` (word tagging) import this module; copy it to
the device beside them. It needs numpy, a TFLite interpreter (ai-edge-litert, or tflite-runtime)
and the bundle's tokenizer library (sentencepiece or tokenizers), nothing of albert_tf.
"""

from __future__ import annotations

import functools
import hashlib
import json
import unicodedata
from pathlib import Path

import numpy as np

KIT_FILE = "kit.json"
SUPPORTED_FORMAT = 1
EXIT_OK, EXIT_USAGE = 0, 2
TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION = "text-classification", "token-classification"


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


# tf_text's FastBertNormalizer (what albert_tf's WordPiece taggers run) maps each character on
# its own: NFKC_Casefold, NFD and no Mn when lower-casing, then Cc / Cf become spaces.
_FAST_BERT_WHITESPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
                                  + "".join(chr(c) for c in range(0x2000, 0x200B)))


@functools.lru_cache(maxsize=65536)
def _fast_bert_char(char: str, lower_case_nfd_strip_accents: bool) -> str:
    if lower_case_nfd_strip_accents:
        char = "".join(c for c in unicodedata.normalize("NFD", _case_fold(char))
                       if unicodedata.category(c) != "Mn")
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in char)


def fast_bert_words(text: str, lower_case_nfd_strip_accents: bool) -> list[str]:
    """tf_text `FastBertTokenizer`'s words: normalised per character, split on White_Space,
    punctuation and CJK ideographs (the last two kept as words)."""
    words, current = [], []
    for char in "".join(_fast_bert_char(c, lower_case_nfd_strip_accents) for c in text):
        space = char in _FAST_BERT_WHITESPACE
        if space or _is_kept_separator(char, True):
            if current:
                words.append("".join(current))
                current = []
            if not space:
                words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


class WordPieceIds:
    """keras-hub `WordPieceTokenizer` (BERT family): split, normalise, then WordPiece.

    Words are split and normalised here exactly as keras-hub does (`pretokenizer` "keras-hub",
    classifiers), or as tf_text's `FastBertTokenizer` does ("fast-bert", the taggers' word
    tokenizer); the greedy longest-match WordPiece lookup runs in the `tokenizers` library.

    Args:
        vocab_file: `vocab.txt`, one token per line, line number = id.
        options: the `tokenizer` entry of kit.json (pretokenizer, lowercase, strip_accents,
            split, split_on_cjk, suffix_indicator, oov_token, special_tokens).
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
        self.pretokenizer = options.get("pretokenizer", "keras-hub")
        if self.pretokenizer not in ("keras-hub", "fast-bert"):
            raise KitError(f"unknown WordPiece pretokenizer {self.pretokenizer!r} in kit.json: "
                           "expected keras-hub or fast-bert (use the kit from the same albert_tf)")
        oov_token = options.get("oov_token", "[UNK]")
        if oov_token not in self._ids:
            raise KitError(f"{vocab_file} lacks the OOV token {oov_token!r}: not the bundle's "
                           "vocabulary")
        self._oov_id = self._ids[oov_token]
        # The byte limit is applied in `word_ids` (keras-hub counts bytes, tokenizers chars).
        self._wordpiece = WordPiece(vocab=self._ids, unk_token=oov_token,
                                    continuing_subword_prefix=options.get("suffix_indicator", "##"),
                                    max_input_chars_per_word=1 << 30)

    def words(self, text: str) -> list[str]:
        """The pre-tokenisation of one string (keras-hub's, or FastBertTokenizer's)."""
        if self.pretokenizer == "fast-bert":
            return fast_bert_words(text, self.lowercase)
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

    def word_ids(self, word: str) -> list[int]:
        """WordPiece ids of one pre-tokenised word."""
        if not word:
            return []
        if len(word.encode("utf-8")) > _MAX_BYTES_PER_WORD:
            return [self._oov_id]
        return [token.id for token in self._wordpiece.tokenize(word)]

    def __call__(self, text: str) -> list[int]:
        ids = []
        for word in self.words(text):
            ids.extend(self.word_ids(word))
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
# Bundles.


# The kit.json fields the scripts read, with their JSON types.
SPEC_FIELDS = {"model_file": str, "model_sha256": str, "label_names_file": str,
               "signature": str, "inputs": list, "output": str, "mode": str,
               "sequence_length": int, "special_tokens": dict, "truncate": str,
               "tokenizer": dict}
# The script for each task (classification bundles from before `task` existed have none).
TASK_SCRIPTS = {TEXT_CLASSIFICATION: "classify.py", TOKEN_CLASSIFICATION: "tag.py"}


def read_bundle_spec(bundle: Path, task: str = TEXT_CLASSIFICATION) -> dict:
    """kit.json of a bundle folder, checked for the fields the scripts rely on.

    Args:
        bundle: the bundle folder.
        task: the task the calling script runs; a bundle of the other task is refused.
    """
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
        raise KitError(f"{path} has bundle format {spec.get('format')!r}; this kit reads "
                       f"format {SUPPORTED_FORMAT}: use the kit from the same albert_tf")
    bundle_task = spec.get("task", TEXT_CLASSIFICATION)
    if bundle_task != task:
        script = TASK_SCRIPTS.get(bundle_task)
        raise KitError(f"{bundle} is a {bundle_task} bundle, not {task}"
                       + (f": run it with {script}" if script else ""))
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


class BundleModel:
    """A bundle's TFLite model with its tokenizer and labels (the scripts' common part).

    Args:
        bundle_dir: the bundle folder.
        task: the task the subclass runs (checked against kit.json).
        num_threads: CPU threads for the interpreter.
        verify: check the model file's sha256 against kit.json (catches partial copies).
    """

    def __init__(self, bundle_dir, task: str, num_threads: int = 1, verify: bool = True):
        self.bundle = Path(bundle_dir)
        self.spec = read_bundle_spec(self.bundle, task)
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
        output_details = self._runner.get_output_details()[self._output]
        self._output_shape = tuple(int(d) for d in output_details["shape"][1:])
        self._output_quantization = output_details["quantization"]

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

    def stack(self, rows: list[dict]) -> dict[str, np.ndarray]:
        """`[n, sequence_length]` inputs from `pack`ed rows."""
        length = int(self.spec["sequence_length"])
        return {name: (np.stack([row[name] for row in rows]) if rows
                       else np.zeros((0, length), np.int32)) for name in self.spec["inputs"]}

    def run_packed(self, packed: dict[str, np.ndarray]) -> np.ndarray:
        """The model's output for packed inputs (`[n, ...]`), in batches of the model's size."""
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
        return np.concatenate(parts) if parts else np.zeros((0, *self._output_shape), np.float32)

    def _dequantize(self, values: np.ndarray) -> np.ndarray:
        if np.issubdtype(values.dtype, np.integer):  # int8 output of a full-integer model
            scale, zero_point = self._output_quantization
            return (values.astype(np.float32) - zero_point) * scale
        return values.astype(np.float32)


def latency_summary(times_ms: list[float]) -> dict:
    """median / p90 / mean / min of timings in milliseconds."""
    values = np.asarray(times_ms)
    return {"median": round(float(np.median(values)), 3),
            "p90": round(float(np.percentile(values, 90)), 3),
            "mean": round(float(values.mean()), 3), "min": round(float(values.min()), 3)}


def read_lines(path: str) -> list[str]:
    """Non-empty lines of a UTF-8 text file (`--file`)."""
    file = Path(path)
    if not file.is_file():
        raise KitError(f"--file {file}: no such file")
    return [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
