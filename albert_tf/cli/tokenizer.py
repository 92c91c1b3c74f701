"""`albert-tf tokenizer`: train an ALBERT-compatible SentencePiece model."""

from albert_tf.cli.common import add_data_arguments, data_spec, positive_int


def register(subparsers):
    parser = subparsers.add_parser("tokenizer", help="train or inspect SentencePiece tokenizers")
    sub = parser.add_subparsers(dest="tokenizer_command", metavar="ACTION", required=True,
                                parser_class=type(parser))
    train = sub.add_parser(
        "train", help="train a SentencePiece model on a source's training split",
        description="Train an ALBERT-compatible SentencePiece model (<pad>, <unk>, [CLS], "
                    "[SEP], [MASK]) on the training split only, so dev and test stay unseen.")
    add_data_arguments(train)
    train.add_argument("--vocab-size", type=positive_int, default=8000)
    train.add_argument("--model-type", default="unigram", choices=["unigram", "bpe"])
    train.add_argument("--output", required=True, help="path of the .model file to write")
    train.set_defaults(func=run_train)
    encode = sub.add_parser("encode", help="show the pieces and ids of texts")
    encode.add_argument("model", help="SentencePiece .model file")
    encode.add_argument("texts", nargs="+")
    encode.set_defaults(func=run_encode)


def run_train(args) -> int:
    from albert_tf.data.spec import load_splits
    from albert_tf.text import train_sentencepiece

    train, _, _ = load_splits(data_spec(args))
    texts = list(train.texts) + list(train.pairs or [])
    path = train_sentencepiece(texts, args.output, vocab_size=args.vocab_size,
                               model_type=args.model_type, seed=args.seed)
    print(f"wrote {path} ({args.vocab_size} pieces, trained on {len(texts)} training texts)")
    return 0


def run_encode(args) -> int:
    import json

    from albert_tf.models import load_albert_tokenizer

    tokenizer = load_albert_tokenizer(args.model)
    for text in args.texts:
        ids = [int(i) for i in tokenizer(text).numpy()]
        pieces = [tokenizer.id_to_token(i) for i in ids]
        print(json.dumps({"text": text, "ids": ids, "pieces": pieces}, ensure_ascii=False))
    return 0
