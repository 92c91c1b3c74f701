"""Fixtures for the pre-training tests: real documents (Brown files) as a local .txt corpus."""

import pytest


@pytest.fixture(scope="session")
def brown_txt(tmp_path_factory):
    """The first 40 Brown Corpus files as a `.txt` corpus: one document per file (sentences
    one per line, documents between blank lines), about 2,900 sentences of real text."""
    from albert_tf.data import fetch_source
    from albert_tf.data.brown_corpus import detokenize, read_brown_files

    files = read_brown_files(fetch_source("brown-corpus"))[:40]
    path = tmp_path_factory.mktemp("corpus") / "brown40.txt"
    path.write_text("\n\n".join("\n".join(detokenize(words) for words in sentences)
                                for sentences in files) + "\n", encoding="utf-8")
    return path
