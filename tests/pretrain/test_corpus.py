"""Documents for pre-training: readers keep document structure, held-out texts never enter."""

import json

import pytest

from albert_tf.errors import UserError
from albert_tf.pretrain.corpus import load_corpus, split_sentences


def test_sentences_split_at_ends_of_english_and_chinese_sentences():
    assert split_sentences('He left. "Why?" she asked!  Fine') == [
        "He left.", '"Why?"', "she asked!", "Fine"]
    assert split_sentences("今天很好。我们走吧！好") == ["今天很好。", "我们走吧！", "好"]
    assert split_sentences("  ") == []


def test_txt_blocks_are_documents_and_lines_their_sentences(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("First one. Second one.\nThird line\n\n\nAlone here.\n  \nLast. Block.\n",
                    encoding="utf-8")
    corpus = load_corpus([str(path)])
    assert corpus.documents == [["First one.", "Second one.", "Third line"], ["Alone here."],
                                ["Last.", "Block."]]
    assert corpus.pair_documents() == 2
    assert "used whole" in corpus.notes[0]


def test_unlabelled_jsonl_rows_are_documents(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"text": "A b. C d."}) + "\n\n" + json.dumps({"text": "E."}) + "\n")
    assert load_corpus([str(path)]).documents == [["A b.", "C d."], ["E."]]


def _labelled_rows(count=60):
    words = "plot actor scene score light sound story pace cast ending".split()
    return [{"text": f"The {words[i % 10]} number {i} was {'good' if i % 2 else 'bad'}.",
             "label": "pos" if i % 2 else "neg"} for i in range(count)]


def test_a_labelled_source_gives_its_training_split_only(tmp_path):
    from albert_tf.data.spec import DataSpec, load_splits

    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _labelled_rows()) + "\n")
    train, dev, test = load_splits(DataSpec(source=str(path)))
    corpus = load_corpus([str(path)])
    texts = {t for d in corpus.documents for t in d}
    assert texts == set(train.texts)
    assert not texts & (set(dev.texts) | set(test.texts))
    assert "training split only" in corpus.notes[0]


def test_dev_and_test_texts_of_an_evaluated_source_leave_every_other_source(tmp_path):
    """A test text inside a local file's document is cut out (the document split there), and
    a document that is a test text goes whole."""
    from albert_tf.data.spec import DataSpec, load_splits

    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("\n".join(json.dumps(r) for r in _labelled_rows()) + "\n")
    _, dev, test = load_splits(DataSpec(source=str(labelled)))
    held = test.texts[0]
    corpus_file = tmp_path / "c.txt"
    corpus_file.write_text(f"Before it. {held} After it. And more.\n\n{dev.texts[0]}\n",
                           encoding="utf-8")
    assert load_corpus([str(corpus_file)]).documents == [
        ["Before it.", held, "After it.", "And more."], [dev.texts[0]]]
    assert load_corpus([str(corpus_file)], leave_out=[str(labelled)]).documents == [
        ["Before it."], ["After it.", "And more."]]


@pytest.mark.parametrize("content, message", [
    ("\n\n  \n", "holds no text"),
    ('{"text": 3}\n', 'string "text" field'),
    ("[1, 2]\n", "expected a JSON object"),
])
def test_bad_corpora_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / ("c.jsonl" if content.startswith(("{", "[")) else "c.txt")
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        load_corpus([str(path)])


def test_unknown_sources_and_no_sources_are_refused(tmp_path):
    with pytest.raises(UserError, match="unknown corpus source 'wikipedia'"):
        load_corpus(["wikipedia"])
    with pytest.raises(UserError, match="no corpus given"):
        load_corpus([])
    with pytest.raises(UserError, match="corpus file not found"):
        load_corpus([str(tmp_path / "missing.txt")])


def test_brown_documents_leave_out_the_pos_dev_and_test_sentences(brown_txt):
    from albert_tf.data.brown_corpus import detokenize
    from albert_tf.tagging.examples import load_tagged, split_tagged

    corpus = load_corpus(["brown-corpus"])
    _, dev, test = split_tagged(load_tagged("brown-corpus"), seed=0)
    segments = set(corpus.texts())
    held = {detokenize(list(words)) for words in list(dev.words) + list(test.words)}
    # Held-out sentences that also occur in training (short ones like "Yes.") are left out
    # wherever they are, so none is in the corpus at all.
    assert not segments & held
    assert corpus.pair_documents() > 3000
    assert 0.6 < len(corpus.texts()) / 57340 < 0.8  # about 80 % x 80 % of the sentences
