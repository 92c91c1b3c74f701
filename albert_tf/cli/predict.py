"""`albert-tf predict`: classify texts given on the command line or in a file."""

import codecs
import sys

from albert_tf.cli.common import positive_int


def register(subparsers):
    parser = subparsers.add_parser(
        "predict", help="classify texts with a saved classifier",
        description="Print the predicted label and class probabilities for each text.")
    parser.add_argument("texts", nargs="*", help="texts to classify")
    parser.add_argument("--model-dir", required=True, help="classifier folder")
    parser.add_argument("--pair", action="append", default=None,
                        help="second text of a sentence pair (once per text, same order)")
    parser.add_argument("--file", default=None,
                        help="UTF-8 file with one text per line (instead of arguments); an "
                             "empty line is classified like an empty text")
    parser.add_argument("--batch-size", type=positive_int, default=32)
    parser.set_defaults(func=run)


def _text_error(text: str) -> str | None:
    """Why `text` cannot be classified, or None. An empty text is classified as the
    tokenizer sees it (`[CLS] [SEP]`), as the SavedModel, the TFLite files and the edge kit
    do: an exported graph cannot refuse one text of a batch without failing them all."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # argv bytes that were not UTF-8 arrive as lone surrogates
        return "is not valid UTF-8 text"
    return None


def read_texts(args) -> list[tuple[str, str | None]]:
    """`(text, error)` for each text, in order; `error` is None for a text to classify."""
    from pathlib import Path

    from albert_tf.errors import UserError

    if args.file and args.texts:
        raise UserError("give texts as arguments or with --file, not both")
    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise UserError(f"text file not found: {path}")
        data = path.read_bytes().removeprefix(codecs.BOM_UTF8)  # not part of the first text
        rows = []
        for number, raw in enumerate(data.splitlines(), start=1):
            try:
                rows.append((raw.decode("utf-8"), None))
            except UnicodeDecodeError:
                rows.append((raw.decode("utf-8", "replace"),
                             f"{path} line {number} is not valid UTF-8"))
        if not rows:
            raise UserError(f"{path} holds no text: give one text per line")
        return rows
    if not args.texts:
        raise UserError("no text given: pass texts as arguments or --file PATH")
    rows = []
    for number, text in enumerate(args.texts, start=1):
        error = _text_error(text)
        rows.append((text, None if error is None else f"text {number} {error}"))
    return rows


def run(args) -> int:
    import json

    import numpy as np

    from albert_tf.classification_metrics import predict_logits, softmax
    from albert_tf.errors import UserError
    from albert_tf.models import load_classifier, load_label_names
    from albert_tf.text import make_dataset

    rows = read_texts(args)
    errors = [error for _, error in rows if error is not None]
    if len(errors) == len(rows):
        raise UserError(errors[0] if len(errors) == 1 else
                        f"{errors[0]} (and every other text: nothing to classify)")
    texts = [text for text, error in rows if error is None]
    pairs = None
    if args.pair is not None:
        if len(args.pair) != len(rows):
            raise UserError(f"{len(rows)} texts but {len(args.pair)} --pair values: give one "
                            "--pair per text")
        for number, pair in enumerate(args.pair, start=1):
            error = _text_error(pair)
            if error:
                raise UserError(f"pair {number} {error}")
        pairs = [pair for pair, (_, error) in zip(args.pair, rows) if error is None]
    model = load_classifier(args.model_dir)
    names = load_label_names(args.model_dir, model.num_classes)

    class Examples:  # the pipeline's examples interface, without labels
        pass

    examples = Examples()
    examples.texts, examples.pairs = texts, pairs
    ds = make_dataset(examples, model.preprocessor, args.batch_size, with_labels=False)
    probs = iter(softmax(predict_logits(model, ds)))
    for text, error in rows:  # one line per text, in order; a bad text does not stop the rest
        if error is not None:
            print(f"error: {error}", file=sys.stderr)
            continue
        row = next(probs)
        best = int(np.argmax(row))
        print(json.dumps({"text": text, "label": names[best],
                          "probabilities": {n: round(float(p), 4) for n, p in zip(names, row)}},
                         ensure_ascii=False))
    return 2 if errors else 0
