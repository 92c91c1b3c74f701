"""The named sources' content, parsed from the real registry files."""

import collections

import numpy as np
import pytest

from albert_tf.data import (
    UNIVERSAL_TAGS,
    brown_texts,
    brown_to_universal,
    fetch_source,
    load_brown_sentences,
    load_source,
    normalized_text_key,
)
from albert_tf.data.brown_corpus import detokenize
from albert_tf.data.brown_universal_tags import BROWN_TO_UNIVERSAL, brown_base_tag
from albert_tf.errors import UserError


def test_rotten_tomatoes_counts_and_labels(rotten_copy):
    examples = load_source("rotten-tomatoes")
    # 7,403 fresh + 5,405 rotten (1,097 plot rows dropped), minus 57 texts repeated after
    # normalising case and whitespace (none of them with conflicting labels).
    assert len(examples) == 12_751
    assert examples.label_names == ["negative", "positive"]
    assert examples.label_counts() == {"negative": 5_383, "positive": 7_368}
    assert examples.pairs is None and examples.labels.dtype == np.int32
    assert len(set(examples.keys())) == len(examples)
    # Plot summaries are long; reviews are snippets.
    assert max(len(t) for t in examples.texts) < 400


def test_movie_snippets_counts_and_encoding(snippets_copy):
    examples = load_source("movie-snippets")
    # 10,605 rows: 5,242 > 0, 5,326 < 0, 37 == 0 (dropped); 2 repeated texts dropped.
    assert len(examples) == 10_566
    assert examples.label_counts() == {"negative": 5_325, "positive": 5_241}
    assert any("Lucía" in t for t in examples.texts)  # the file is UTF-8, not latin-1
    assert not any("Ã" in t for t in examples.texts)
    first = examples.texts.index(next(t for t in examples.texts if t.startswith("The Rock is destined")))
    assert examples.label_names[examples.labels[first]] == "positive"  # rating 2.27


@pytest.mark.slow  # fetches its source from PyPI on first use
@pytest.mark.parametrize("name, count, positive", [("product-snippets", 3_600, 2_120),
                                                    ("editorial-snippets", 4_878, 2_178),
                                                    ("sentiment-tweets", 4_136, 2_867)])
def test_the_other_vader_snippet_sets(name, count, positive):
    """The other three rated sets of the same archive: CRLF files, ratings of 0 dropped."""
    examples = load_source(name)
    assert (len(examples), examples.label_counts()["positive"]) == (count, positive)
    assert examples.source == name and examples.label_names == ["negative", "positive"]
    assert not any(t != t.strip() or "\r" in t for t in examples.texts)


def test_combining_removes_cross_source_duplicates(combined_sentiment):
    rotten, snippets = load_source("rotten-tomatoes"), load_source("movie-snippets")
    keys = combined_sentiment.keys()
    assert len(keys) == len(set(keys))
    overlap = set(rotten.keys()) & set(snippets.keys())
    assert len(overlap) > 5_000  # both are Rotten Tomatoes snippets
    assert len(combined_sentiment) < len(rotten) + len(snippets) - len(overlap) + 1
    assert combined_sentiment.source == "rotten-tomatoes+movie-snippets"
    # Texts the two sources label differently are dropped, not decided arbitrarily.
    rotten_label = dict(zip(rotten.keys(), rotten.labels))
    conflicting = {
        k for k, y in zip(snippets.keys(), snippets.labels) if k in rotten_label and rotten_label[k] != y
    }
    assert conflicting and not conflicting & set(keys)


def test_brown_sentences_and_texts(brown_sentences):
    sentences = brown_sentences
    assert len(sentences) == 57_340
    assert sum(len(words) for words, _ in sentences) == 1_161_192
    words, tags = sentences[0]
    assert words[:4] == ["The", "Fulton", "County", "Grand"]
    assert tags[:4] == ["at", "np-tl", "nn-tl", "jj-tl"]
    texts = brown_texts()
    assert len(texts) == len(sentences)
    assert texts[0].startswith(
        "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent"
    )
    assert '"no evidence"' in texts[0] and "/" not in texts[0].split()[1]


def test_brown_universal_tags_cover_the_corpus(brown_sentences):
    universal = load_brown_sentences(tagset="universal")
    brown = brown_sentences
    assert [words for words, _ in universal[:100]] == [words for words, _ in brown[:100]]
    counts = collections.Counter(t for _, tags in universal for t in tags)
    assert set(counts) == set(UNIVERSAL_TAGS)
    assert counts["NOUN"] > counts["VERB"] > counts["ADJ"] > counts["NUM"] > counts["X"]
    # X comes only from foreign words, interjections and the corpus' few untagged ("nil") tokens.
    x_sources = {
        tag for (_, tags), (_, uni) in zip(brown, universal) for tag, u in zip(tags, uni) if u == "X"
    }
    assert all(t.startswith("fw-") or brown_base_tag(t) in ("uh", "nil") for t in x_sources)
    assert counts["X"] / sum(counts.values()) < 0.002


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("nn-tl", "NOUN"), ("vbd-hl", "VERB"), ("nn-tl-hl", "NOUN"), ("np$", "NOUN"), ("nns$-tl", "NOUN"),
        ("md*", "VERB"), ("bez*", "VERB"), ("do*-hl", "VERB"), ("*", "ADV"), ("*-hl", "ADV"),
        ("fw-nn", "X"), ("fw-in+at-tl", "X"), ("fw-*", "X"), ("ppss+md", "PRON"), ("vb+ppo", "VERB"),
        ("pp$", "PRON"), ("pp$$", "PRON"), ("wp$", "PRON"), ("---hl", "."), ("(-hl", "."), ("``", "."),
        ("ppss+ber-n", "PRON"), ("at", "DET"), ("in", "ADP"), ("cc", "CONJ"), ("cd", "NUM"), ("rp", "PRT"),
        ("to", "PRT"), ("ex", "DET"), ("cs", "ADP"), ("od", "ADJ"), ("uh", "X"), ("nil", "X"),
        ("NN-TL", "NOUN"),
    ],
)  # fmt: skip
def test_brown_to_universal(tag, expected):
    assert brown_to_universal(tag) == expected


def test_every_table_entry_is_a_universal_tag():
    assert set(BROWN_TO_UNIVERSAL.values()) <= set(UNIVERSAL_TAGS)


def test_brown_genre_data_set(brown_copy):
    examples = load_source("brown-corpus")
    assert len(examples.label_names) == 15 and examples.label_names == sorted(examples.label_names)
    assert examples.label_counts()["news"] > 4_000
    assert len(set(examples.keys())) == len(examples)


def test_detokenize():
    assert (
        detokenize(["``", "Yes", "''", ",", "he", "said", "(", "twice", ")", "."])
        == '"Yes", he said (twice).'
    )


def test_teacher_is_weights_not_data():
    with pytest.raises(UserError, match="model weights"):
        load_source("minilm-teacher")


def test_named_source_rejects_column_options(rotten_copy):
    with pytest.raises(UserError, match="text_column: only for files"):
        load_source("rotten-tomatoes", text_column="review")


def test_normalized_key_ignores_case_and_whitespace():
    assert normalized_text_key("A  Great\tfilm \n") == normalized_text_key("a great FILM")
    assert normalized_text_key("a", "b") != normalized_text_key("a b")


@pytest.mark.slow
def test_minilm_teacher_loads_offline_with_keras_hub():
    import keras_hub

    folder = fetch_source("minilm-teacher")
    model = keras_hub.models.BertTextClassifier.from_preset(str(folder), num_classes=2)
    assert model.backbone.num_layers == 6 and model.backbone.hidden_dim == 384
    model.preprocessor.sequence_length = 16
    logits = model.predict(["a gorgeous, moving film", "dull and lifeless"], verbose=0)
    assert logits.shape == (2, 2) and np.all(np.isfinite(logits))
