"""tfds:NAME sources: the conversion from tfds-style datasets, run on local stand-ins."""

import sys

import numpy as np
import pytest

from albert_tf.data import load_source, make_splits
from albert_tf.data.tfds_source import examples_from_split_datasets, examples_from_tf_dataset
from albert_tf.errors import UserError

tf = pytest.importorskip("tensorflow")


def _dataset(**columns):
    """A tf.data.Dataset of feature dicts, as tfds.load(...) without as_supervised gives."""
    return tf.data.Dataset.from_tensor_slices({k: np.array(v) for k, v in columns.items()})


def test_conversion_of_a_glue_like_source():
    # GLUE shape: labelled train and validation, test labels are -1.
    train = _dataset(
        idx=list(range(20)),
        sentence=[f"train sentence {i} é".encode() for i in range(20)],
        label=[i % 2 for i in range(20)],
    )
    validation = _dataset(
        idx=[0, 1, 2], sentence=[b"val one", b"val two", b"train sentence 3 \xc3\xa9"], label=[1, 0, 1]
    )
    test = _dataset(idx=[0, 1], sentence=[b"test one", b"test two"], label=[-1, -1])
    examples = examples_from_split_datasets(
        {"train": train, "validation": validation, "test": test},
        source="tfds:glue/sst2",
        label_names=["negative", "positive"],
    )
    assert examples.label_names == ["negative", "positive"] and examples.pairs is None
    assert examples.texts[0] == "train sentence 0 é"
    assigned = np.array(examples.assigned_splits)
    assert (assigned == "test").sum() == 3  # validation became test; unlabelled test dropped
    assert (assigned == "dev").sum() == 2  # 10 % of train, stratified
    assert "test one" not in examples.texts

    splits = make_splits(examples, seed=0)
    assert splits.test.texts == ["val one", "val two", "train sentence 3 é"]
    # The train copy of a text that is also in the test split is removed from train.
    assert "train sentence 3 é" not in splits.train.texts + splits.dev.texts
    assert splits.sizes() == {"train": 17, "dev": 2, "test": 3}
    assert sorted(np.bincount(splits.dev.labels).tolist()) == [1, 1]


def test_conversion_with_pairs_and_labelled_test():
    train = _dataset(
        sentence1=[b"a", b"b", b"c", b"d"], sentence2=[b"w", b"x", b"y", b"z"], label=[0, 1, 0, 1]
    )
    validation = _dataset(sentence1=[b"e"], sentence2=[b"v"], label=[1])
    test = _dataset(sentence1=[b"f"], sentence2=[b"u"], label=[0])
    unsupervised = _dataset(sentence1=[b"g"], sentence2=[b"t"], label=[-1])
    examples = examples_from_split_datasets(
        {"train": train, "validation": validation, "test": test, "unsupervised": unsupervised},
        source="tfds:pairs",
    )
    assert examples.pairs == ["w", "x", "y", "z", "v", "u"]  # sentence2 picked as the pair of sentence1
    assert examples.assigned_splits == ["train"] * 4 + ["dev", "test"]
    assert examples.label_names == ["0", "1"]


def test_conversion_names_missing_features():
    with pytest.raises(UserError, match="feature 'review' does not exist; features are: label, sentence"):
        examples_from_tf_dataset(_dataset(sentence=[b"a"], label=[0]), "review", None, "label")


def test_missing_tensorflow_datasets_gives_clear_error(monkeypatch):
    # The dev extra installs tensorflow-datasets; a None entry in sys.modules makes its import
    # fail here as it does where the extra is missing.
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    with pytest.raises(UserError, match=r"pip install 'albert_tf\[tfds\]'"):
        load_source("tfds:glue/sst2")


def test_no_network_is_one_line_naming_the_source(monkeypatch, tmp_path):
    """The real download, through a proxy that refuses connections. tfds retries 10 times
    with backoff (205 s measured); its retry count is set to 0 here to keep the test short.
    glue/cola: no test prepares it (tests/recipe prepares glue/sst2 in a registered dir)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    from tensorflow_datasets.core import constants
    from tensorflow_datasets.core.download import downloader

    monkeypatch.setattr(downloader, "MAX_RETRIES", 0)
    monkeypatch.setattr(constants, "DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert tfds.builder("glue/cola").data_dir.startswith(str(tmp_path))
    with pytest.raises(UserError, match=r"could not download 'glue/cola' with tensorflow-"
                                        r"datasets \(\w*Error: .*check the network") as info:
        load_source("tfds:glue/cola")
    assert "\n" not in str(info.value)
