"""`albert-tf predict`: classify texts given on the command line or in a file."""

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
                        help="UTF-8 file with one text per line (instead of arguments)")
    parser.add_argument("--batch-size", type=positive_int, default=32)
    parser.set_defaults(func=run)


def _check_text(text: str, where: str) -> str:
    from albert_tf.errors import UserError

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # argv bytes that were not UTF-8 arrive as lone surrogates
        raise UserError(f"{where} is not valid UTF-8 text") from None
    if not text.strip():
        raise UserError(f"{where} is empty: give a non-empty text")
    return text


def read_texts(args) -> list[str]:
    from pathlib import Path

    from albert_tf.errors import UserError

    if args.file and args.texts:
        raise UserError("give texts as arguments or with --file, not both")
    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise UserError(f"text file not found: {path}")
        texts = []
        for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UserError(f"{path} line {number} is not valid UTF-8") from None
            texts.append(_check_text(line, f"{path} line {number}"))
        return texts
    if not args.texts:
        raise UserError("no text given: pass texts as arguments or --file PATH")
    return [_check_text(t, f"text {i}") for i, t in enumerate(args.texts, start=1)]


def run(args) -> int:
    import json

    import numpy as np

    from albert_tf.errors import UserError
    from albert_tf.evaluate import predict_logits, softmax
    from albert_tf.models import load_classifier, load_label_names
    from albert_tf.text import make_dataset

    texts = read_texts(args)
    pairs = None
    if args.pair is not None:
        if len(args.pair) != len(texts):
            raise UserError(f"{len(texts)} texts but {len(args.pair)} --pair values: give one "
                            "--pair per text")
        pairs = [_check_text(p, f"pair {i}") for i, p in enumerate(args.pair, start=1)]
    model = load_classifier(args.model_dir)
    names = load_label_names(args.model_dir, model.num_classes)

    class Examples:  # the pipeline's examples interface, without labels
        pass

    examples = Examples()
    examples.texts, examples.pairs = texts, pairs
    ds = make_dataset(examples, model.preprocessor, args.batch_size, with_labels=False)
    probs = softmax(predict_logits(model, ds))
    for text, row in zip(texts, probs):
        best = int(np.argmax(row))
        print(json.dumps({"text": text, "label": names[best],
                          "probabilities": {n: round(float(p), 4) for n, p in zip(names, row)}},
                         ensure_ascii=False))
    return 0
