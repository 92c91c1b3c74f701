"""Tiny teachers and students for the distillation tests (helpers, memoised per process).

The data is real: the session fixture `rotten_tomatoes_small` (400 train, 100 dev, 100 test
snippets). Models are keras-hub BERT / ALBERT backbones with a few hundred WordPiece tokens,
2 layers and a hidden width of 32, so one distillation run takes seconds.
"""

import collections

import keras
import keras_hub
import numpy as np
from tiny_models import words

SEQUENCE_LENGTH = 32
RESERVED_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_MEMO = {}


def wordpiece_vocabulary(texts, size=600):
    """A lower-cased WordPiece vocabulary for `texts`: BERT's special tokens, every character
    (alone and as a `##` continuation, so any word can be spelled) and the most frequent words.
    (tensorflow-text's vocabulary learner takes half a minute on two cores; this takes none.)"""
    counts = collections.Counter(w for t in texts for w in words(t))
    characters = sorted({c for w in counts for c in w})
    vocabulary = RESERVED_TOKENS + characters + ["##" + c for c in characters]
    frequent = [w for w, _ in counts.most_common() if len(w) > 1]
    return vocabulary + frequent[:max(size - len(vocabulary), 0)]


def bert_preprocessor(vocabulary, sequence_length=SEQUENCE_LENGTH):
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    return keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length)


def tiny_bert_teacher(vocabulary, num_layers=2, hidden_dim=32, num_heads=2, num_classes=2,
                      dropout=0.1):
    """A random keras-hub BERT classifier over `vocabulary`."""
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary), num_layers=num_layers, num_heads=num_heads,
        hidden_dim=hidden_dim, intermediate_dim=2 * hidden_dim, dropout=dropout,
        max_sequence_length=64)
    return keras_hub.models.BertTextClassifier(
        backbone, num_classes=num_classes, preprocessor=bert_preprocessor(vocabulary),
        dropout=dropout)


def randomize_weights(model, seed=0, scale=0.3):
    """Replace every weight (layer-norm scales and biases too) by random values, so a wrong
    weight mapping cannot hide behind ones and zeros."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        values = rng.normal(0.0, scale, variable.shape)
        if variable.path.endswith("gamma"):
            values += 1.0
        variable.assign(values.astype(variable.dtype))
    return model


def has_the(texts):
    """1 where a text contains the word "the": the task the test teacher is trained on."""
    return np.array([int("the" in words(t)) for t in texts], dtype=np.int32)


def the_teacher(train):
    """A tiny BERT trained to tell whether a snippet contains the word "the" (memoised).

    A teacher with a learnable function that the true sentiment labels say nothing about
    (on the training snippets they agree about half the time), so whatever a student learns
    of it can only come from the teacher's outputs.
    """
    if "the_teacher" not in _MEMO:
        from albert_tf.data import TextExamples
        from albert_tf.models import detached_preprocessor
        from albert_tf.text import make_dataset

        keras.utils.set_random_seed(7)
        teacher = tiny_bert_teacher(wordpiece_vocabulary(train.texts))
        teacher.compile(optimizer=keras.optimizers.Adam(3e-3),
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        task = TextExamples(train.texts, None, has_the(train.texts), ["no", "yes"], "has-the")
        dataset = make_dataset(task, teacher.preprocessor, batch_size=16, shuffle=True, seed=7)
        with detached_preprocessor(teacher):
            teacher.fit(dataset, epochs=8, verbose=0)
        _MEMO["the_teacher"] = teacher
    return _MEMO["the_teacher"]


def tiny_student_shape(**overrides):
    """AlbertBackbone arguments of a student smaller than the tiny teacher."""
    shape = dict(num_layers=2, num_heads=2, embedding_dim=16, hidden_dim=32,
                 intermediate_dim=64, num_groups=1, dropout=0.1, max_sequence_length=64)
    shape.update(overrides)
    return shape


def weights_snapshot(model):
    return [keras.ops.convert_to_numpy(v).copy() for v in model.weights]
